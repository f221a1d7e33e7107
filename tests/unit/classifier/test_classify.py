"""Real user-agent strings and what the edge makes of them."""

from __future__ import annotations

import pytest

from classifier import BOT, HUMAN, PREVIEW, SCANNER, classify, client_facts, stored_prefix_network

HUMANS = [
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like"
    " Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/125.0.6422.113 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:127.0) Gecko/20100101 Firefox/127.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like"
    " Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/470.0.0.40.108;FBBV/612000000]",
    # In-app browsers of apps whose link previewers are named alike.
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like"
    " Gecko) Mobile/15E148 [Pinterest/iOS]",
    "Mozilla/5.0 (Linux; Android 14; SM-S918B Build/UP1A.231005.007; wv) AppleWebKit/537.36"
    " (KHTML, like Gecko) Version/4.0 Chrome/125.0.6422.147 Mobile Safari/537.36"
    " [Pinterest/Android]",
    "Mozilla/5.0 (Linux; Android 13; SM-A536B Build/TP1A.220624.014; wv) AppleWebKit/537.36"
    " (KHTML, like Gecko) Version/4.0 Chrome/124.0.6367.179 Mobile Safari/537.36 Viber/21.8.0.2",
]
PREVIEWS = {
    "WhatsApp/2.23.20.0 A": "whatsapp",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)": "facebook",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)": "slack",
    "Twitterbot/1.0": "x",
    "TelegramBot (like TwitterBot)": "telegram",
    (
        "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)"
    ): "linkedin",
    "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)": "discord",
    "Pinterest/0.2 (+https://www.pinterest.com/bot.html)": "pinterest",
    "Viber/20.9.0.8 CFNetwork/1410.0.3 Darwin/22.6.0": "viber",
    # iMessage fetches previews with this agent.
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 (KHTML, like Gecko)"
    " Version/9.0.1 Safari/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0": "facebook",
}
SCANNERS = {
    "BarracudaCentral/1.0 (+http://www.barracudacentral.org)": "barracuda",
    "Mimecast URL Protect/1.0": "mimecast",
    # Office apps probe a link before opening it (design notes: `Word/...`).
    "Microsoft Office Word 2014": "microsoft",
    "Word/16.70.23021201": "microsoft",
    "Mozilla/5.0 (compatible; Proofpoint URL Defense)": "proofpoint",
    "Microsoft Office Existence Discovery": "microsoft",
}
BOTS = ["curl/8.5.0", "python-requests/2.32.3", "Googlebot/2.1 (+http://www.google.com/bot.html)"]


@pytest.mark.parametrize("agent", HUMANS)
def test_people_are_human(agent: str) -> None:
    assert classify("GET", agent, None).hit_class == HUMAN


@pytest.mark.parametrize(("agent", "name"), PREVIEWS.items())
def test_link_previewers_get_a_preview(agent: str, name: str) -> None:
    verdict = classify("GET", agent, None)
    assert (verdict.hit_class, verdict.reasons) == (PREVIEW, (f"ua_preview:{name}",))


@pytest.mark.parametrize(("agent", "name"), SCANNERS.items())
def test_mail_security_scanners_are_scanners(agent: str, name: str) -> None:
    assert classify("GET", agent, None).reasons == (f"ua_scanner:{name}",)


@pytest.mark.parametrize("agent", [*BOTS, "", "   "])
def test_other_robots_are_bots(agent: str) -> None:
    assert classify("GET", agent, None).hit_class == BOT


def test_head_is_never_human() -> None:
    verdict = classify("HEAD", HUMANS[0], None)
    assert (verdict.hit_class, verdict.reasons) == (BOT, ("head",))


def test_browser_agents_from_scanner_networks_are_scanners() -> None:
    _, network = client_facts("40.107.22.5")  # Microsoft's mail cloud
    verdict = classify("GET", HUMANS[2], network)
    assert (verdict.hit_class, verdict.reasons) == (SCANNER, ("ip_scanner:microsoft",))
    assert client_facts("203.0.113.9")[1] is None


def test_a_stored_address_prefix_finds_its_scanner_network() -> None:
    # Hits keep only their /24 or /48; every listed range is wider.
    assert stored_prefix_network("40.107.3.0/24") == "microsoft"
    assert stored_prefix_network("148.163.150.0/24") == "proofpoint"
    assert stored_prefix_network("203.0.113.0/24") is None
    assert stored_prefix_network("2001:db8:1::/48") is None
    assert stored_prefix_network("") is None
