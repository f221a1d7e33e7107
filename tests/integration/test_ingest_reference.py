"""Click ingest against a straightforward evaluation of its rules on the same
clicks: random batches over a few messages, one of them hot (all its links
clicked many times a second, bursts everywhere), in random order and sizes.
The stored classes and reasons, the messages' first clicks and the rollups must
be what the rules say, however the ingest computes them."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from control.domain.click_ingest import LinkMessages, ingest_clicks
from control.domain.hit_rules import BURST_SECONDS, SOON_AFTER_SEND_SECONDS
from control.domain.model import ClickRow
from control.domain.rollup_repair import reconcile
from smarturls.v1 import common_pb2, templates_pb2
from tests.integration.test_rollups import uuid7_at
from tests.support import Stack

LINKS = [
    templates_pb2.TemplateLink(
        name=name, kind=common_pb2.LINK_KIND_TRACKED, destination_url=f"https://acme.example/{name}"
    )
    for name in ("a", "b", "c")
]
CLASSES = ("human", "human", "human", "bot", "preview")


@dataclass
class Hit:
    click_id: bytes
    smart_url_id: int
    message: str
    at: datetime
    hit_class: str
    reasons: list[str] = field(default_factory=list)

    def row(self) -> ClickRow:
        micros = int(self.at.timestamp() * 1e6)
        agent = "Mozilla/5.0" if self.hit_class == "human" else self.hit_class
        reasons = "\n".join(self.reasons)
        return (
            self.click_id,
            self.smart_url_id,
            micros,
            "GET",
            agent,
            "",
            "",
            self.hit_class,
            reasons,
        )


def reference(batches: Sequence[Sequence[Hit]], sent_at: dict[str, datetime]) -> dict[bytes, Hit]:
    """The rules as written (control/domain/hit_rules.py), click by click: too
    soon after sending, then every pair of different links of one message within
    the burst window, a new click with any stored one, marks both."""
    stored: dict[bytes, Hit] = {}
    soon = timedelta(seconds=SOON_AFTER_SEND_SECONDS["EMAIL"])
    window = timedelta(seconds=BURST_SECONDS)
    for batch in batches:
        new = []
        for original in batch:
            if original.click_id in stored:
                continue  # a resent click is stored once
            hit = Hit(**{**original.__dict__, "reasons": list(original.reasons)})
            since = hit.at - sent_at[hit.message]
            if hit.hit_class == "human" and since < soon:
                hit.hit_class = "scanner"
                hit.reasons.append(f"soon_after_send:{int(since.total_seconds() // 1)}s")
            stored[hit.click_id] = hit
            new.append(hit)
        marked = set()
        for n in new:
            for o in stored.values():
                if (
                    o.message == n.message
                    and o.smart_url_id != n.smart_url_id
                    and abs(o.at - n.at) <= window
                ):
                    marked.update((n.click_id, o.click_id))
        for click_id in marked:
            hit = stored[click_id]
            if "burst" not in hit.reasons:
                hit.reasons.append("burst")
                if hit.hit_class == "human":
                    hit.hit_class = "scanner"
    return stored


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_ingest_stores_what_the_rules_say(stack: Stack, seed: int) -> None:
    rng = random.Random(seed)
    account = await stack.account()
    template = await stack.template(account.account_id, common_pb2.GOAL_UNSPECIFIED, LINKS)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    sent_at, links = {}, {}
    for name in ("hot", "quiet-1", "quiet-2", "fresh"):
        # "fresh" was sent moments before its clicks: the too-soon rule applies.
        ago = timedelta(minutes=30, seconds=-5) if name == "fresh" else timedelta(hours=2)
        minted = await stack.mint(account.account_id, template.template_id, name, sent_ago=ago)
        sent_at[name] = datetime.now(UTC) - ago
        ids = await stack.db.fetch(
            "SELECT smart_url_id FROM smart_urls u JOIN messages m USING (account_id, message_id)"
            " WHERE m.external_message_id = $1 ORDER BY link_name",
            name,
        )
        links[name] = [r[0] for r in ids]
        assert len(minted) == len(links[name]) == 3
    # The stored send time, to the microsecond, as the rules read it.
    for row in await stack.db.fetch("SELECT external_message_id, sent_at FROM messages"):
        sent_at[row[0]] = row[1]

    hits = []
    for _ in range(600):
        message = "hot" if rng.random() < 0.7 else rng.choice(["quiet-1", "quiet-2", "fresh"])
        spread = 8 if message == "hot" else 40  # seconds: the hot one is dense
        at = start + timedelta(microseconds=rng.randrange(spread * 1_000_000))
        if message == "fresh":
            at = sent_at["fresh"] + timedelta(microseconds=rng.randrange(20_000_000))
        # The hot message's first link takes most of its traffic.
        link = (
            links[message][0]
            if message == "hot" and rng.random() < 0.6
            else rng.choice(links[message])
        )
        hits.append(Hit(uuid7_at(at, rng).bytes, link, message, at, rng.choice(CLASSES)))
    hits.sort(key=lambda h: h.at)
    # Batches as edges send them: roughly in time order, some out of order, some resent.
    batches: list[list[Hit]] = []
    i = 0
    while i < len(hits):
        size = rng.choice([1, 5, 40, 120])
        batch = hits[i : i + size]
        rng.shuffle(batch)
        batches.append(batch)
        i += size
    rng.shuffle(batches[: len(batches) // 3])
    batches.insert(rng.randrange(len(batches)), batches[rng.randrange(len(batches))])

    links = LinkMessages()  # as the control plane keeps it, across batches
    for batch in batches:
        await ingest_clicks(stack.db, stack.deps.partitions, [h.row() for h in batch], links)

    expected = reference(batches, sent_at)
    stored = {
        bytes(r["click_id"].bytes): (r["hit_class"], list(r["reasons"]))
        for r in await stack.db.fetch("SELECT click_id, hit_class, reasons FROM clicks")
    }
    assert stored == {k: (h.hit_class, h.reasons) for k, h in expected.items()}
    assert sum("burst" in h.reasons for h in expected.values()) > 50  # bursts were tested
    firsts = {
        r[0]: r[1]
        for r in await stack.db.fetch("SELECT external_message_id, first_click_at FROM messages")
    }
    for message in sent_at:
        humans = [
            h.at for h in expected.values() if h.message == message and h.hit_class == "human"
        ]
        assert firsts[message] == (min(humans) if humans else None), message
    async with stack.db.acquire() as conn:
        assert await reconcile(conn, [account.account_id], None, fix=False) == []
