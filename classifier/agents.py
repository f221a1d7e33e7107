"""The user agent's verdict, from maintained data first and short documented
lists for what that data does not tell apart.

In order (the first rule that decides wins):
1. no agent: a bot;
2. a link previewer of a messaging or social app (PREVIEW_AGENTS): it fetches
   the page to draw a card, no person behind it at that moment;
3. a mail-security product, a mail provider's image proxy or link resolver,
   or an Office app probing a link before opening it (SCANNER_AGENTS);
4. an in-app browser (a person reading in Facebook, TikTok, LINE, ...): by
   ua-parser's browser family (uap-core, maintained) or IN_APP_BROWSERS; a
   person even where a crawler list matches a token in the agent;
5. a bot: ua-parser names an HTTP library or tool (LIBRARY_FAMILIES), or
   crawler-user-agents (maintained) matches, or BOT_AGENTS (headless browsers,
   monitors and clients neither knows);
6. not a browser's agent at all (browsers all send `Mozilla/5.0 ...`, old
   Opera and feature phones aside): a program, so a bot;
7. otherwise a person.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from crawleruseragents import CRAWLER_PATTERNS
from ua_parser import Domain, RegexResolver, load_builtins

HUMAN, SCANNER, PREVIEW, BOT = "human", "scanner", "preview", "bot"


@dataclass(frozen=True, slots=True)
class Verdict:
    hit_class: str
    reasons: tuple[str, ...]


# Messaging apps, social networks and tools fetching a link to draw its card
# (their own documentation or robots pages; the corpus rows cite each).
# Order matters only for the reason recorded.
PREVIEW_AGENTS: tuple[tuple[str, str], ...] = (
    ("whatsapp", r"^WhatsApp/"),
    # iMessage sends "facebookexternalhit/1.1 Facebot Twitterbot/1.0" too.
    ("facebook", r"facebookexternalhit|Facebot|meta-externalfetcher"),
    ("x", r"Twitterbot"),
    ("slack", r"Slackbot|Slack-ImgProxy"),
    ("telegram", r"TelegramBot"),
    ("linkedin", r"LinkedInBot"),
    ("discord", r"Discordbot"),
    ("skype", r"SkypeUriPreview"),
    # The apps' own browsers name them too ("[Pinterest/iOS]", "... Viber/20.5"):
    # only the fetchers' forms are previews, never a person in the in-app browser.
    ("pinterest", r"Pinterestbot|^Pinterest/0\."),
    ("viber", r"^Viber/"),
    ("snapchat", r"Snap URL Preview|snapchat-proxy"),
    ("reddit", r"redditbot"),
    ("embedly", r"Embedly|Iframely"),
    (
        "google",
        r"Google-PageRenderer|GoogleMessages/|Google \(\+https://developers\.google\.com/\+/web/snippet/\)",
    ),
    ("teams", r"SkypeSpaces|MicrosoftPreview"),
    ("vk", r"vkShare"),
    ("ok", r"OdklBot"),
    ("bluesky", r"Bluesky Cardyb|BlueskyPreviewBot"),
    # Mastodon and other fediverse servers fetch a post's links for its card.
    ("fediverse", r"\((?:Mastodon|Pleroma|Akkoma|Misskey|GoToSocial)/|SummalyBot"),
    ("matrix", r"Synapse \(bot|BeeperBot|Matrix-Media-Repo"),
    ("mattermost", r"^mattermost-|Mattermost-Bot"),
    ("quora", r"Quora Link Preview"),
    ("yahoo", r"Yahoo Link Preview|Yahoo:LinkExpander"),
    ("medium", r"Mediumbot"),
    ("zoom", r"\(Zoom\.Mac|ZoomBot"),
    ("xing", r"XING-contenttabreceiver"),
    ("link-preview", r"LinkPreview|Link Preview|UnfurlBot|RichLinkBot|LinkExpander"),
    ("discourse", r"Discourse Forum Onebox"),
    ("asana", r"WebsiteMetadataRetriever"),
    ("kakaotalk", r"kakaotalk-scrap"),
)

# Mail security products and mail providers opening links or images at or
# before delivery, and Office apps probing a link before it opens. Many
# scanners also send ordinary browser agents: the address ranges
# (classifier/networks.py) and the timing rules on the control plane catch those.
SCANNER_AGENTS: tuple[tuple[str, str], ...] = (
    ("barracuda", r"Barracuda"),
    ("mimecast", r"Mimecast"),
    ("proofpoint", r"Proofpoint|pphosted"),
    (
        "microsoft",
        r"Microsoft Office Existence Discovery|ms-office|BingPreview|Microsoft URL Control"
        r"|MSOffice|^Microsoft (?:Office|Outlook)\b|^MacOutlook/|\b(?:Word|Excel|PowerPoint)/1\d\.",
    ),
    ("cisco", r"IronPort|Cisco-Secure|Cisco Email"),
    ("symantec", r"Symantec|Broadcom"),
    ("trendmicro", r"Trend ?Micro"),
    ("fortinet", r"Fortinet|FortiGuard"),
    ("zscaler", r"Zscaler"),
    ("sophos", r"Sophos"),
    ("kaspersky", r"Kaspersky"),
    ("google-safety", r"Google-Safety|Google-Safebrowsing"),
    ("checkpoint", r"Check ?Point"),
    # Mail providers' image proxies and link resolvers.
    ("google-mail", r"GoogleImageProxy"),
    ("yahoo-mail", r"YahooMailProxy"),
    # "... Safari/537.36 (via secureurl.fwdcdn.com - mail.ukr.net proxy)"
    ("mail-proxy", r"EmailProxy|MailProxy|ImageProxy/|\(via [\w.-]+\.\w+"),
)

# In-app browsers ua-parser does not name: a person reading in the app.
IN_APP_BROWSERS: tuple[tuple[str, str], ...] = (
    ("facebook", r"FBAN/|FBAV/|FB_IAB/|FBIOS|MetaIAB"),
    ("instagram", r"\bInstagram \d"),
    ("tiktok", r"musical_ly|BytedanceWebview|\btrill_\d"),
    ("snapchat", r"Snapchat/\d"),
    ("line", r"\bLine/\d"),
    ("wechat", r"MicroMessenger/"),
    ("pinterest", r"\[Pinterest/(?:iOS|Android)"),
    ("linkedin", r"LinkedInApp"),
    ("x", r"Twitter for (?:iPhone|iPad|Android)|TwitterAndroid"),
    ("google-app", r"\bGSA/\d"),
    # Viber's desktop app ends its agent in "Viber"; its previewer starts with it.
    ("viber", r"\bViber/\d|^Mozilla/5\.0 .* Viber$"),
    ("kakaotalk", r"KAKAOTALK"),
    ("naver", r"NAVER\(inapp"),
    ("daum", r"DaumApps"),
    ("zalo", r"Zalo"),
)

# ua-parser's browser families that are in-app browsers.
IN_APP_FAMILIES = frozenset(
    {
        "Facebook", "Facebook Messenger", "Instagram", "TikTok", "Snapchat", "LINE",
        "WeChat Browser", "Pinterest", "LinkedIn", "Twitter", "Google", "Weibo",
        "Flipboard", "Slack Desktop Client", "KakaoTalk",
    }
)  # fmt: skip

# ua-parser's families that are HTTP libraries, tools or automation.
LIBRARY_FAMILIES = frozenset(
    {
        "curl", "Wget", "Python Requests", "Python aiohttp", "Python-urllib", "Java",
        "Apache-HttpClient", "okhttp", "axios", "Go-http-client", "go-resty", "GuzzleHttp",
        "libwww-perl", "PostmanRuntime", "HTTPie", "reqwest", "ureq", "got", "http.rb",
        "HeadlessChrome", "PhantomJS", "Ruxit Synthetic", "SimplePie", "Feedbin",
        "Catchpoint", "PRTG Network Monitor", "Site24x7", "NewRelicPingerBot",
        "Mediapartners-Google", "GoogleOther", "Bytespider", "TikTokSpider", "robot",
    }
)  # fmt: skip

# Headless browsers, monitors, feed readers and generic clients that neither
# ua-parser nor crawler-user-agents names.
BOT_AGENTS: tuple[tuple[str, str], ...] = (
    ("headless", r"HeadlessChrome|PhantomJS|Zombie\.js|wkhtmltopdf"),
    ("monitor", r"Catchpoint|Uptime|Pingdom|Site24x7|HealthCheck|Health-Check|Monitoring"),
    ("scanner-tool", r"Nmap|zgrab|Nuclei|CensysInspect|Wappalyzer"),
    ("ai", r"MistralAI|GPTBot|ClaudeBot|ChatGPT|Perplexity|meta-externalagent|DuplexWeb-Google"),
    ("feed", r"feed|RSS|inoreader|theoldreader|BazQux|Miniflux"),
    ("google-tool", r"Google-Apps-Script|Google-Site-Verification|APIs-Google"),
    ("win-http", r"WinHttp|Microsoft URL Control"),
    # The crawler convention: a name and a URL to read about it, which no
    # browser sends ("compatible; Dataprovider/6.92; +https://...").
    ("self-described", r"\+https?://|\(compatible; [^;)]*(?:bot|spider|crawler|fetcher|scraper)"),
)

# Agents a browser sends: Mozilla/5.0 (every current one), old Opera, feature
# phones (MIDP) and text browsers. Anything else is a program.
_BROWSER_SHAPE = re.compile(r"^Mozilla/|Opera/\d|MIDP|^(?:Lynx|Links|w3m)/")


def _combined(patterns: tuple[tuple[str, str], ...]) -> re.Pattern[str]:
    return re.compile(
        "|".join(f"(?P<{re.sub(r'[^a-z]', '_', n)}_{i}>{p})" for i, (n, p) in enumerate(patterns)),
        re.IGNORECASE,
    )


# uap-core's browser-family rules through ua-parser's Rust matcher
# (ua-parser-rs), without its own cache: classify_agent keeps one per distinct
# agent. Its OS and device rules are left out: they decide nothing here (its
# spiders are the crawler lists' too) and would hold ~18 MB more in every edge.
_UAP = RegexResolver((load_builtins()[0], [], []))
_PREVIEW = _combined(PREVIEW_AGENTS)
_SCANNER = _combined(SCANNER_AGENTS)
_IN_APP = _combined(IN_APP_BROWSERS)
_BOT = _combined(BOT_AGENTS)


def _name(match: re.Match[str], patterns: tuple[tuple[str, str], ...]) -> str:
    index = int(str(match.lastgroup).rsplit("_", 1)[1])
    return patterns[index][0]


@lru_cache(maxsize=16384)
def classify_agent(user_agent: str) -> Verdict:
    """The verdict from the user agent alone."""
    if not user_agent.strip():
        return Verdict(BOT, ("no_user_agent",))
    if match := _PREVIEW.search(user_agent):
        return Verdict(PREVIEW, (f"ua_preview:{_name(match, PREVIEW_AGENTS)}",))
    if match := _SCANNER.search(user_agent):
        return Verdict(SCANNER, (f"ua_scanner:{_name(match, SCANNER_AGENTS)}",))
    if _IN_APP.search(user_agent):
        return Verdict(HUMAN, ())
    parsed = _UAP(user_agent, Domain.USER_AGENT)
    family = parsed.user_agent.family if parsed.user_agent else ""
    if family in IN_APP_FAMILIES:
        return Verdict(HUMAN, ())
    if family in LIBRARY_FAMILIES:
        return Verdict(BOT, (f"ua_client:{family[:40]}",))
    if match := CRAWLER_PATTERNS.case_sensitive.search(user_agent):
        return Verdict(BOT, (f"ua_bot:{match.group(0)[:40]}",))
    if match := _BOT.search(user_agent):
        return Verdict(BOT, (f"ua_bot:{_name(match, BOT_AGENTS)}",))
    if not _BROWSER_SHAPE.search(user_agent):
        return Verdict(BOT, ("ua_not_a_browser",))
    return Verdict(HUMAN, ())
