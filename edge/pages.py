"""The short pages the edge answers with instead of a redirect."""

from __future__ import annotations

from html import escape

from edge.links import PreviewCard

_PAGE = (
    "<!doctype html><html><head><meta charset=utf-8><title>{title}</title>"
    '<meta name="robots" content="noindex"></head>'
    "<body><h1>{title}</h1><p>{text}</p></body></html>"
)

NOT_FOUND = _PAGE.format(
    title="Link not found", text="This link is not valid. Check it was copied whole."
).encode()
UNAVAILABLE = _PAGE.format(
    title="Try again in a moment", text="This link cannot be opened right now."
).encode()


def preview(card: PreviewCard, url: str, site: str) -> bytes:
    """The card a messaging app draws for the link: Open Graph and Twitter tags."""
    title = escape(card.title or site)
    tags = [
        f'<meta property="og:title" content="{title}">',
        f'<meta property="og:url" content="{escape(url)}">',
        f'<meta property="og:site_name" content="{escape(site)}">',
        '<meta property="og:type" content="website">',
    ]
    if card.description:
        tags.append(f'<meta property="og:description" content="{escape(card.description)}">')
    if card.image_url:
        tags.append(f'<meta property="og:image" content="{escape(card.image_url)}">')
        tags.append('<meta name="twitter:card" content="summary_large_image">')
    else:
        tags.append('<meta name="twitter:card" content="summary">')
    return (
        "<!doctype html><html><head><meta charset=utf-8>"
        f"<title>{title}</title>{''.join(tags)}"
        '<meta name="robots" content="noindex"></head>'
        f"<body><h1>{title}</h1></body></html>"
    ).encode()
