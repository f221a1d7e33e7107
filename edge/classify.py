"""Who is asking: a human, a mail-security scanner, a link previewer, or another bot.

Pure and cached per distinct user-agent string and per client address, so the
hot path pays a dict lookup. The edge decides what it can see (user agent,
method, address); the control plane adds what only it knows at ingest (seconds
since the message was sent, several links of one message opened in a burst).

Sources: the crawler-user-agents list (PyPI `crawler-user-agents`, maintained
by the community at monperrus/crawler-user-agents) for bots in general, plus the
two short lists below for what it does not tell apart.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from functools import lru_cache

from crawleruseragents import CRAWLER_PATTERNS

HUMAN, SCANNER, PREVIEW, BOT = "human", "scanner", "preview", "bot"

# Messaging apps and social networks fetching a link to draw its preview card.
# Order matters only for the reason recorded.
PREVIEW_AGENTS: tuple[tuple[str, str], ...] = (
    ("whatsapp", r"WhatsApp/"),
    ("facebook", r"facebookexternalhit|Facebot|meta-externalagent"),
    ("x", r"Twitterbot"),
    ("slack", r"Slackbot|Slack-ImgProxy"),
    ("telegram", r"TelegramBot"),
    ("linkedin", r"LinkedInBot"),
    ("discord", r"Discordbot"),
    ("skype", r"SkypeUriPreview"),
    # The apps' own browsers name them too ("[Pinterest/iOS]", "... Viber/20.5"):
    # only the fetchers' forms are previews, never a person in the in-app browser.
    ("pinterest", r"Pinterestbot|Pinterest/0\."),
    ("viber", r"^Viber/"),
    ("snapchat", r"Snap URL Preview"),
    ("reddit", r"redditbot"),
    ("embedly", r"Embedly|Iframely"),
    ("google-chat", r"Google-PageRenderer"),
    ("teams", r"SkypeSpaces|MicrosoftPreview"),
    ("vk", r"vkShare"),
)

# Mail security products that open links at or before delivery. Many of them
# also use ordinary browser user agents: the address ranges and the timing
# rules on the control plane catch those.
SCANNER_AGENTS: tuple[tuple[str, str], ...] = (
    ("barracuda", r"Barracuda"),
    ("mimecast", r"Mimecast"),
    ("proofpoint", r"Proofpoint|pphosted"),
    (
        "microsoft",
        r"Microsoft Office Existence Discovery|ms-office|BingPreview"
        r"|Microsoft URL Control|MSOffice",
    ),
    ("cisco", r"IronPort|Cisco-Secure|Cisco Email"),
    ("symantec", r"Symantec|Broadcom"),
    ("trendmicro", r"Trend ?Micro"),
    ("fortinet", r"Fortinet|FortiGuard"),
    ("zscaler", r"Zscaler"),
    ("sophos", r"Sophos"),
    ("google-safety", r"Google-Safety|Google-Safebrowsing"),
    ("checkpoint", r"Check ?Point"),
)

# In-app browsers that the crawler list takes for its bots (it lists "Viber",
# the name of the app's link previewer): a person reading in the app.
IN_APP_BROWSERS: tuple[tuple[str, str], ...] = (("viber", r"^Mozilla/5\.0 .*\bViber/\d"),)

# Address ranges of mail-security clouds (their published outbound ranges).
# Kept small on purpose; extend it from each vendor's own documentation.
SCANNER_NETWORKS: tuple[tuple[str, str], ...] = (
    ("proofpoint", "148.163.128.0/19"),
    ("proofpoint", "67.231.144.0/20"),
    ("mimecast", "205.139.110.0/24"),
    ("mimecast", "207.211.30.0/24"),
    ("barracuda", "64.235.144.0/20"),
    ("barracuda", "209.222.80.0/21"),
    ("microsoft", "40.92.0.0/15"),
    ("microsoft", "40.107.0.0/16"),
    ("microsoft", "52.100.0.0/14"),
    ("microsoft", "104.47.0.0/17"),
)


def _combined(patterns: tuple[tuple[str, str], ...]) -> re.Pattern[str]:
    return re.compile(
        "|".join(f"(?P<{re.sub(r'[^a-z]', '_', n)}_{i}>{p})" for i, (n, p) in enumerate(patterns)),
        re.IGNORECASE,
    )


_PREVIEW = _combined(PREVIEW_AGENTS)
_SCANNER = _combined(SCANNER_AGENTS)
_IN_APP = _combined(IN_APP_BROWSERS)
_NETWORKS = tuple((name, ipaddress.ip_network(cidr)) for name, cidr in SCANNER_NETWORKS)


@dataclass(frozen=True, slots=True)
class Verdict:
    hit_class: str
    reasons: tuple[str, ...]


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
    if match := CRAWLER_PATTERNS.case_sensitive.search(user_agent):
        return Verdict(BOT, (f"ua_bot:{match.group(0)[:40]}",))
    return Verdict(HUMAN, ())


@lru_cache(maxsize=65536)
def client_facts(host: str) -> tuple[str, str | None]:
    """(address truncated to /24 or /48, scanner network name or None)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return "", None
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 48
    truncated = str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))
    for name, network in _NETWORKS:
        if address.version == network.version and address in network:
            return truncated, name
    return truncated, None


@lru_cache(maxsize=65536)
def _combine(agent: Verdict, head: bool, network: str | None) -> Verdict:
    hit_class, reasons = agent.hit_class, list(agent.reasons)
    if network is not None:
        reasons.append(f"ip_scanner:{network}")
        if hit_class in (HUMAN, BOT):
            hit_class = SCANNER
    if head:
        # HEAD is never a click: X and link checkers send it with browser agents.
        reasons.append("head")
        if hit_class == HUMAN:
            hit_class = BOT
    return Verdict(hit_class, tuple(reasons))


def classify(method: str, user_agent: str, network: str | None) -> Verdict:
    agent = classify_agent(user_agent)
    head = method == "HEAD"
    if not head and network is None:
        return agent
    return _combine(agent, head, network)
