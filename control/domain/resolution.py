"""What a token resolves to, for the edge's cache.

A share button's friend-facing referral link is minted here, on the first
resolve of that button (one per message and network), so the edge never mints
and never waits on PostgreSQL outside a cache miss.
"""

from __future__ import annotations

import asyncpg

from control.domain.destinations import share_intent, smart_url, split_for_source
from control.domain.errors import InvalidArgument, NotFound
from control.domain.model import ResolvedLink
from signing.keys import SigningKeys
from signing.tokens import mint_token, verify_token

_LINKS_QUERY = """
SELECT s.smart_url_id, s.account_id, s.kind, s.parent_smart_url_id, s.message_id,
       s.template_id, s.link_name, m.share_domain, m.advocate_shortcode,
       l.destination_url, l.network, l.share_text, l.share_subject,
       l.og_title, l.og_description, l.og_image_url, t.version
FROM smart_urls s
JOIN messages m ON m.account_id = s.account_id AND m.message_id = s.message_id
JOIN templates t ON t.account_id = s.account_id AND t.template_id = s.template_id
JOIN template_links l
  ON l.account_id = s.account_id AND l.template_id = s.template_id AND l.name = s.link_name
WHERE s.smart_url_id = ANY($1::bigint[]) AND s.revoked_at IS NULL AND m.revoked_at IS NULL
"""


# How many tokens one ResolveTokens call may carry.
MAX_TOKENS = 1000


async def resolve_token(db: asyncpg.Pool, keys: SigningKeys, token: str) -> ResolvedLink:
    (link,) = await resolve_tokens(db, keys, [token])
    if link is None:
        raise NotFound.token()
    return link


async def resolve_tokens(
    db: asyncpg.Pool, keys: SigningKeys, tokens: list[str]
) -> list[ResolvedLink | None]:
    """Each token's link, in order; None for a forged token or a gone link. One
    query for all of them: a cold edge's misses cost the control plane one call
    and one round trip to PostgreSQL, not one each."""
    if not tokens:
        raise InvalidArgument.field("tokens", "at least one token is needed")
    if len(tokens) > MAX_TOKENS:
        raise InvalidArgument.field("tokens", f"at most {MAX_TOKENS} per call, got {len(tokens)}")
    ids = [verify_token(keys, token) for token in tokens]
    wanted = sorted({i for i in ids if i is not None})
    found: dict[int, ResolvedLink] = {}
    if wanted:
        async with db.acquire() as conn:
            for row in await conn.fetch(_LINKS_QUERY, wanted):
                found[row["smart_url_id"]] = await _resolved(conn, keys, row)
    return [found.get(i) if i is not None else None for i in ids]


async def _resolved(
    conn: asyncpg.Connection, keys: SigningKeys, row: asyncpg.Record
) -> ResolvedLink:
    kind = row["kind"]
    tail = ""
    if kind == "TRACKED":
        head = row["destination_url"]
    elif kind == "ENROLLMENT":
        head, tail = split_for_source(row["destination_url"], None)
    elif kind in ("REFERRAL", "SHARED_REFERRAL"):
        head, tail = split_for_source(row["destination_url"], row["advocate_shortcode"])
    else:
        referral_token = await _shared_referral_token(conn, keys, row)
        referral_url = smart_url(row["share_domain"], referral_token)
        head = share_intent(row["network"], referral_url, row["share_text"], row["share_subject"])
    return ResolvedLink(
        smart_url_id=row["smart_url_id"],
        account_id=row["account_id"],
        share_domain=row["share_domain"],
        kind=kind,
        destination_head=head,
        destination_tail=tail,
        append_source=kind in ("ENROLLMENT", "REFERRAL", "SHARED_REFERRAL"),
        template_id=row["template_id"],
        template_version=row["version"],
        og_title=row["og_title"] or row["share_text"],
        og_description=row["og_description"],
        og_image_url=row["og_image_url"],
    )


async def _shared_referral_token(
    conn: asyncpg.Connection, keys: SigningKeys, share: asyncpg.Record
) -> str:
    """The referral link a share button puts in the shared text, made once."""
    # The button's own row gives the rest (message, template, link, send facts).
    await conn.execute(
        "INSERT INTO smart_urls (smart_url_id, account_id, message_id, template_id, link_name,"
        " kind, key_id, parent_smart_url_id, sent_at, channel)"
        " SELECT nextval('smart_url_ids'), account_id, message_id, template_id, link_name,"
        " 'SHARED_REFERRAL', $2, smart_url_id, sent_at, channel"
        " FROM smart_urls WHERE smart_url_id = $1"
        " AND NOT EXISTS (SELECT 1 FROM smart_urls WHERE parent_smart_url_id = $1)"
        " ON CONFLICT (parent_smart_url_id) WHERE parent_smart_url_id IS NOT NULL DO NOTHING",
        share["smart_url_id"],
        keys.current,
    )
    child = await conn.fetchrow(
        "SELECT smart_url_id, key_id FROM smart_urls WHERE parent_smart_url_id = $1",
        share["smart_url_id"],
    )
    return mint_token(keys, child["smart_url_id"], child["key_id"])
