from __future__ import annotations

import pytest

from classifier import client_facts
from control.api.convert import click_rows
from edge.clicks import EdgeClick, click_batch, joined_batch
from smarturls.v1 import edge_pb2


@pytest.mark.parametrize(
    ("host", "prefix"),
    [
        ("203.0.113.77", "203.0.113.0/24"),
        ("2001:db8:abcd:12:1:2:3:4", "2001:db8:abcd::/48"),
        ("::ffff:8.8.8.8", "8.8.8.0/24"),
        ("not-an-ip", ""),
    ],
)
def test_addresses_are_never_kept_whole(host: str, prefix: str) -> None:
    assert client_facts(host)[0] == prefix


def clicks_of(batch: edge_pb2.ClickBatch) -> list[EdgeClick]:
    """The clicks of a batch in column form: click_batch() undone, as the
    tests read it back."""
    columns = batch.columns
    strings = list(columns.strings)
    ids = columns.click_ids
    return [
        EdgeClick(
            click_id=ids[16 * i : 16 * i + 16],
            smart_url_id=columns.smart_url_ids[i],
            clicked_at_us=columns.clicked_at_us[i],
            method=strings[columns.method[i]],
            user_agent=strings[columns.user_agent[i]],
            ip_prefix=strings[columns.ip_prefix[i]],
            referer=strings[columns.referer[i]],
            hit_class=strings[columns.hit_class[i]],
            reasons=tuple(r for r in strings[columns.reasons[i]].split("\n") if r),
        )
        for i in range(len(columns.smart_url_ids))
    ]


def recorded_clicks() -> list[EdgeClick]:
    # Every field distinct, and strings repeated across clicks and columns, so a
    # column in the wrong place or a wrong dictionary index shows.
    return [
        EdgeClick(
            bytes([n]) * 16,
            100 + n,
            1_700_000_000_000_000 + n,
            method,
            agent,
            prefix,
            referer,
            hit_class,
            reasons,
        )
        for n, (method, agent, prefix, referer, hit_class, reasons) in enumerate(
            [
                ("GET", "Mozilla/5.0", "203.0.113.0/24", "", "human", ()),
                (
                    "HEAD",
                    "Twitterbot/1.0",
                    "",
                    "https://t.co/",
                    "bot",
                    ("ua_bot:Twitterbot", "head"),
                ),
                ("GET", "human", "GET", "Mozilla/5.0", "scanner", ("burst",)),
            ]
        )
    ]


def test_a_column_batch_reads_back_as_the_clicks_recorded() -> None:
    clicks = recorded_clicks()
    rows = click_rows(click_batch(clicks))
    assert rows == [(*c[:8], "\n".join(c.reasons)) for c in clicks]
    assert click_rows(click_batch([])) == []


def test_spooled_batches_merge_back_into_the_clicks_they_hold() -> None:
    """A column batch holds every click it was made of, in order."""
    clicks = recorded_clicks()
    assert clicks_of(click_batch(clicks)) == clicks
    assert clicks_of(click_batch(clicks[:1])) + clicks_of(click_batch(clicks[1:])) == clicks
    assert clicks_of(click_batch([])) == []


def test_joined_batches_hold_every_click_in_order_under_one_dictionary() -> None:
    """What replay sends for several spool records: the columns concatenated,
    each record's string indexes mapped into the joined dictionary."""
    clicks = recorded_clicks()
    # Records whose dictionaries number the same strings differently.
    parts = [click_batch(clicks[2:]), click_batch(clicks[:1]), click_batch(clicks[1:2])]
    joined = joined_batch(parts)
    assert clicks_of(joined) == clicks[2:] + clicks[:1] + clicks[1:2]
    assert click_rows(joined) == [row for part in parts for row in click_rows(part)]
    # Each string once.
    assert len(joined.columns.strings) == len(set(joined.columns.strings))
    assert clicks_of(joined_batch([click_batch(clicks)])) == clicks
