"""Templates: channel, the link slots every message gets, and the goal history."""

from __future__ import annotations

from dataclasses import replace

import asyncpg

from control.domain import validation
from control.domain.accounts import get_account
from control.domain.attribution import (
    DEFAULT_WINDOW_SECONDS,
    MAX_WINDOW_SECONDS,
    MIN_WINDOW_SECONDS,
)
from control.domain.errors import InvalidArgument, NotFound
from control.domain.invalidations import announce_template
from control.domain.model import Channel, Goal, GoalChange, Template, TemplateLink

MAX_LINKS = 20
_DECLARABLE_KINDS = ("SHARE", "ENROLLMENT", "REFERRAL", "TRACKED")


def validate_links(links: list[TemplateLink], field: str = "links[{}]") -> tuple[TemplateLink, ...]:
    if not links:
        raise InvalidArgument.field("links", "a template needs at least one link")
    if len(links) > MAX_LINKS:
        raise InvalidArgument.field("links", f"at most {MAX_LINKS} links per template")
    seen: set[str] = set()
    checked = []
    for i, link in enumerate(links):
        where = field.format(i)
        validation.link_name(f"{where}.name", link.name)
        if link.name in seen:
            raise InvalidArgument.field(f"{where}.name", f"{link.name!r} is used twice")
        seen.add(link.name)
        if link.kind not in _DECLARABLE_KINDS:
            raise InvalidArgument.field(
                f"{where}.kind", "one of SHARE, ENROLLMENT, REFERRAL, TRACKED"
            )
        url = validation.destination_url(f"{where}.destination_url", link.destination_url)
        if (link.kind == "SHARE") != (link.network is not None):
            raise InvalidArgument.field(
                f"{where}.network", "required for SHARE links and only for them"
            )
        if link.kind != "SHARE" and (link.share_text or link.share_subject):
            raise InvalidArgument.field(f"{where}.share_text", "only SHARE links have share text")
        validation.text(f"{where}.share_text", link.share_text, 1000)
        validation.text(f"{where}.share_subject", link.share_subject, 200)
        validation.text(f"{where}.og_title", link.og_title, 200)
        validation.text(f"{where}.og_description", link.og_description, 500)
        image = link.og_image_url
        if image and not validation.destination_url(f"{where}.og_image_url", image).startswith(
            "https://"
        ):
            raise InvalidArgument.field(f"{where}.og_image_url", "must be an https URL")
        checked.append(replace(link, destination_url=url))
    return tuple(checked)


async def create_template(
    db: asyncpg.Pool,
    account_id: int,
    name: str,
    channel: Channel | None,
    goal: Goal | None,
    links: list[TemplateLink],
    attribution_window_seconds: int = 0,
) -> Template:
    name = validation.display_name("name", name)
    window = check_window(attribution_window_seconds or DEFAULT_WINDOW_SECONDS)
    if channel is None:
        raise InvalidArgument.field("channel", "required: EMAIL or SMS")
    checked_links = validate_links(links)
    async with db.acquire() as conn, conn.transaction():
        await get_account(conn, account_id)
        template_id = await conn.fetchval(
            "INSERT INTO templates (account_id, name, channel, attribution_window_seconds)"
            " VALUES ($1, $2, $3, $4) RETURNING template_id",
            account_id,
            name,
            channel,
            window,
        )
        await conn.executemany(
            "INSERT INTO template_links (account_id, template_id, name, position, kind,"
            " destination_url, network, share_text, share_subject, og_title, og_description,"
            " og_image_url) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            [
                (
                    account_id,
                    template_id,
                    link.name,
                    i,
                    link.kind,
                    link.destination_url,
                    link.network,
                    link.share_text,
                    link.share_subject,
                    link.og_title,
                    link.og_description,
                    link.og_image_url,
                )
                for i, link in enumerate(checked_links)
            ],
        )
        await conn.execute(
            "INSERT INTO template_goals (account_id, template_id, goal) VALUES ($1, $2, $3)",
            account_id,
            template_id,
            goal,
        )
        return await load_template(conn, account_id, template_id)


async def load_template(
    db: asyncpg.Pool | asyncpg.Connection, account_id: int, template_id: int
) -> Template:
    validation.positive_id("account_id", account_id)
    validation.positive_id("template_id", template_id)
    row = await db.fetchrow(
        "SELECT template_id, account_id, name, channel, created_at, version,"
        " attribution_window_seconds FROM templates"
        " WHERE account_id = $1 AND template_id = $2",
        account_id,
        template_id,
    )
    if row is None:
        raise NotFound.template(account_id, template_id)
    links = await db.fetch(
        "SELECT name, kind, destination_url, network, share_text, share_subject, og_title,"
        " og_description, og_image_url FROM template_links"
        " WHERE account_id = $1 AND template_id = $2 ORDER BY position",
        account_id,
        template_id,
    )
    goals = await db.fetch(
        "SELECT goal, effective_from FROM template_goals"
        " WHERE account_id = $1 AND template_id = $2 ORDER BY effective_from",
        account_id,
        template_id,
    )
    return Template(
        **dict(row),
        links=tuple(TemplateLink(**dict(r)) for r in links),
        goal_history=tuple(GoalChange(**dict(r)) for r in goals),
    )


async def set_template_goal(
    db: asyncpg.Pool, account_id: int, template_id: int, goal: Goal | None
) -> Template:
    async with db.acquire() as conn, conn.transaction():
        template = await load_template(conn, account_id, template_id)
        if template.goal != goal:
            await conn.execute(
                "INSERT INTO template_goals (account_id, template_id, goal) VALUES ($1, $2, $3)",
                account_id,
                template_id,
                goal,
            )
        return await load_template(conn, account_id, template_id)


def check_window(seconds: int) -> int:
    if not MIN_WINDOW_SECONDS <= seconds <= MAX_WINDOW_SECONDS:
        raise InvalidArgument.field(
            "attribution_window_seconds",
            f"must be from {MIN_WINDOW_SECONDS} (1 hour) to {MAX_WINDOW_SECONDS} (90 days)",
        )
    return seconds


async def set_attribution_window(
    db: asyncpg.Pool, account_id: int, template_id: int, seconds: int
) -> Template:
    """Outcomes recorded from now on are judged by the new window."""
    check_window(seconds)
    async with db.acquire() as conn, conn.transaction():
        await load_template(conn, account_id, template_id)
        await conn.execute(
            "UPDATE templates SET attribution_window_seconds = $3"
            " WHERE account_id = $1 AND template_id = $2",
            account_id,
            template_id,
            seconds,
        )
        return await load_template(conn, account_id, template_id)


async def update_template_link(
    db: asyncpg.Pool, account_id: int, template_id: int, link: TemplateLink
) -> Template:
    """Changes what one link does; every edge drops its cached copies on commit."""
    async with db.acquire() as conn, conn.transaction():
        template = await load_template(conn, account_id, template_id)
        current = next((x for x in template.links if x.name == link.name), None)
        if current is None:
            raise NotFound(f"link.name: template {template_id} has no link {link.name[:40]!r}")
        if (link.kind, link.network) != (current.kind, current.network):
            raise InvalidArgument.field("link.kind", "kind and network of a link cannot change")
        [checked] = validate_links([link], field="link")
        version = await conn.fetchval(
            "UPDATE templates SET version = version + 1, updated_at = now()"
            " WHERE account_id = $1 AND template_id = $2 RETURNING version",
            account_id,
            template_id,
        )
        await conn.execute(
            "UPDATE template_links SET destination_url = $4, share_text = $5, share_subject = $6,"
            " og_title = $7, og_description = $8, og_image_url = $9"
            " WHERE account_id = $1 AND template_id = $2 AND name = $3",
            account_id,
            template_id,
            checked.name,
            checked.destination_url,
            checked.share_text,
            checked.share_subject,
            checked.og_title,
            checked.og_description,
            checked.og_image_url,
        )
        await announce_template(conn, template_id, version)
        return await load_template(conn, account_id, template_id)
