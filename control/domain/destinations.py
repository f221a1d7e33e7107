"""Where a click goes: share intents and landing pages with the mbsy parameters.

Pure functions. The edge receives a destination split around the place where
the click's mbsy_source goes, so answering a click is two string joins.
"""

from __future__ import annotations

from urllib.parse import quote, unquote_plus, urlsplit, urlunsplit

from control.domain.model import Network

SOURCE_PARAM = "mbsy_source"
SHORTCODE_PARAM = "mbsy"


def _q(value: str) -> str:
    return quote(value, safe="")


def _with_text(text: str, url: str) -> str:
    return f"{text} {url}" if text else url


def share_intent(network: Network, url: str, text: str, subject: str = "") -> str:
    """The network's share URL, prefilled with `text` and the referral `url`."""
    if network == "WHATSAPP":
        return f"https://wa.me/?text={_q(_with_text(text, url))}"
    if network == "FACEBOOK":
        return f"https://www.facebook.com/sharer.php?u={_q(url)}"
    if network == "X":
        return f"https://x.com/intent/tweet?text={_q(text)}&url={_q(url)}"
    if network == "LINKEDIN":
        return f"https://www.linkedin.com/sharing/share-offsite/?url={_q(url)}"
    if network == "TELEGRAM":
        return f"https://t.me/share/url?url={_q(url)}&text={_q(text)}"
    if network == "EMAIL":
        return f"mailto:?subject={_q(subject)}&body={_q(_with_text(text, url))}"
    if network == "SMS":
        return f"sms:?body={_q(_with_text(text, url))}"
    raise ValueError(f"unknown share network {network!r}")


def split_for_source(url: str, shortcode: str | None) -> tuple[str, str]:
    """Splits `url` so that head + mbsy_source + tail is the landing URL.

    mbsy (when given) and mbsy_source replace any the template's URL already had;
    every other query segment is kept byte for byte (merchants sign their URLs).
    """
    parts = urlsplit(url)
    kept = [
        segment
        for segment in parts.query.split("&")
        if segment and unquote_plus(segment.split("=", 1)[0]) not in (SOURCE_PARAM, SHORTCODE_PARAM)
    ]
    if shortcode is not None:
        kept.append(f"{SHORTCODE_PARAM}={quote(shortcode, safe='')}")
    kept.append(f"{SOURCE_PARAM}=")
    head = urlunsplit((parts.scheme, parts.netloc, parts.path or "/", "&".join(kept), ""))
    tail = f"#{parts.fragment}" if parts.fragment else ""
    return head, tail


def smart_url(domain: str, token: str) -> str:
    return f"https://{domain}/{token}"
