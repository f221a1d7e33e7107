"""The attribution rules as a pure function: precedence of the reasons, the inclusive
window, who the person is, and the moment a click id was made."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
import uuid_utils

from control.domain.attribution import (
    DEFAULT_WINDOW_SECONDS,
    MAX_WINDOW_SECONDS,
    MIN_WINDOW_SECONDS,
    Chain,
    Evidence,
    judge,
    person_key,
    uuid7_time,
    within_window,
)
from control.domain.model import HIT_CLASSES

SENT = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
WINDOW = 3600
CLICK = uuid.UUID("0196f1a2-0000-7000-8000-000000000001")
CHAIN = Chain(
    smart_url_id=1001,
    click_id=CLICK,
    message_id=7,
    template_id=3,
    advocate_shortcode="JANE42",
    sent_at=SENT,
    window_seconds=WINDOW,
)
# Everything in order: a human click, the advocate's shortcode, inside the window.
GOOD = Evidence(
    source="ours",
    chain=CHAIN,
    shortcode="JANE42",
    click_class="human",
    occurred_at=SENT + timedelta(minutes=10),
)
LATE = SENT + timedelta(seconds=WINDOW + 1)


def test_a_good_outcome_counts() -> None:
    assert judge(GOOD) is None


def test_a_click_not_stored_yet_counts_as_human() -> None:
    assert judge(replace(GOOD, click_class=None)) is None


def test_no_shortcode_is_no_mismatch() -> None:
    # Signups carry no shortcode; an order may come without one.
    assert judge(replace(GOOD, shortcode="")) is None


# Each row breaks its rule and every rule below it: the row's reason must win.
@pytest.mark.parametrize(
    ("evidence", "reason"),
    [
        (
            replace(GOOD, source="none", shortcode="SOMEONE", click_class="bot", occurred_at=LATE),
            "NO_SOURCE",
        ),
        (
            replace(
                GOOD, source="legacy", shortcode="SOMEONE", click_class="bot", occurred_at=LATE
            ),
            "SENT_BEFORE_SMART_URLS",
        ),
        (
            replace(GOOD, chain=None, shortcode="SOMEONE", click_class="bot", occurred_at=LATE),
            "UNKNOWN_SOURCE",
        ),
        (
            replace(GOOD, shortcode="SOMEONE", click_class="bot", occurred_at=LATE),
            "SHORTCODE_MISMATCH",
        ),
        (replace(GOOD, click_class="scanner", occurred_at=LATE), "NON_HUMAN_CLICK"),
        (replace(GOOD, occurred_at=LATE), "WINDOW_EXPIRED"),
        (replace(GOOD, click_class=None, occurred_at=LATE), "WINDOW_EXPIRED"),
    ],
)
def test_reasons_come_in_the_order_of_the_table(evidence: Evidence, reason: str) -> None:
    assert judge(evidence) == reason


def test_no_source_and_legacy_win_even_with_a_chain_at_hand() -> None:
    assert judge(replace(GOOD, source="none")) == "NO_SOURCE"
    assert judge(replace(GOOD, source="legacy")) == "SENT_BEFORE_SMART_URLS"
    assert judge(replace(GOOD, chain=None)) == "UNKNOWN_SOURCE"


@pytest.mark.parametrize("hit_class", [c for c in HIT_CLASSES if c != "human"])
def test_every_non_human_class_is_a_non_human_click(hit_class: str) -> None:
    assert judge(replace(GOOD, click_class=hit_class)) == "NON_HUMAN_CLICK"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("offset", "counts"),
    [
        (timedelta(seconds=WINDOW), True),  # sent_at + window itself counts
        (timedelta(seconds=WINDOW - 1), True),
        (timedelta(seconds=WINDOW, microseconds=1), False),
        (timedelta(seconds=WINDOW + 1), False),
        (timedelta(0), True),
    ],
)
def test_the_window_is_inclusive(offset: timedelta, counts: bool) -> None:
    evidence = replace(GOOD, occurred_at=SENT + offset)
    assert (judge(evidence) is None) is counts
    assert within_window(SENT, WINDOW, SENT + offset) is counts


def test_the_window_is_the_templates() -> None:
    wide = replace(GOOD, chain=replace(CHAIN, window_seconds=MAX_WINDOW_SECONDS))
    at_edge = SENT + timedelta(seconds=MAX_WINDOW_SECONDS)
    assert judge(replace(wide, occurred_at=at_edge)) is None
    assert judge(replace(wide, occurred_at=at_edge + timedelta(seconds=1))) == "WINDOW_EXPIRED"
    assert MIN_WINDOW_SECONDS == 3600 and MAX_WINDOW_SECONDS == 90 * 86400
    assert DEFAULT_WINDOW_SECONDS == 30 * 86400


def test_window_compares_instants_not_wall_clocks() -> None:
    elsewhere = (SENT + timedelta(seconds=WINDOW)).astimezone(timezone(timedelta(hours=-8)))
    assert within_window(SENT, WINDOW, elsewhere)
    assert not within_window(SENT, WINDOW, elsewhere + timedelta(microseconds=1))


# Who the person is -----------------------------------------------------------------------


def test_a_share_is_always_the_advocate() -> None:
    assert person_key("SHARE", "", None, "x") == "advocate"
    assert person_key("SHARE", "c-1", CLICK, "x") == "advocate"


@pytest.mark.parametrize("kind", ["SIGNUP", "ORDER"])
def test_customer_id_then_click_then_external_id(kind: str) -> None:
    assert person_key(kind, "c-1", CLICK, "o-1") == "customer:c-1"  # type: ignore[arg-type]
    assert person_key(kind, "", CLICK, "o-1") == f"click:{CLICK}"  # type: ignore[arg-type]
    assert person_key(kind, "", None, "o-1") == "external:o-1"  # type: ignore[arg-type]


def test_person_keys_of_different_origins_never_collide() -> None:
    # A customer id that happens to equal an external id, or a click id's text.
    keys = {
        person_key("ORDER", "o-1", None, "x"),
        person_key("ORDER", "", None, "o-1"),
        person_key("ORDER", str(CLICK), None, "x"),
        person_key("ORDER", "", CLICK, "x"),
        person_key("ORDER", "advocate", None, "x"),
        person_key("SHARE", "", None, "x"),
    }
    assert len(keys) == 6


def test_the_same_customer_is_one_person_whatever_the_click_or_order() -> None:
    other = uuid.UUID(int=CLICK.int + 1)
    assert person_key("ORDER", "c-1", CLICK, "o-1") == person_key("ORDER", "c-1", other, "o-2")
    assert person_key("ORDER", "", CLICK, "o-1") == person_key("ORDER", "", CLICK, "o-2")
    assert person_key("ORDER", "", CLICK, "o-1") != person_key("ORDER", "", other, "o-1")


# The moment in a UUIDv7 ------------------------------------------------------------------


def test_uuid7_time_is_the_millisecond_the_id_was_made() -> None:
    before = datetime.now(UTC)
    made = uuid_utils.uuid7()
    after = datetime.now(UTC)
    moment = uuid7_time(uuid.UUID(bytes=made.bytes))
    assert moment == datetime.fromtimestamp(made.timestamp / 1000, UTC)
    # Truncated to the millisecond: up to 1 ms before the clock read before it.
    assert before - timedelta(milliseconds=1) < moment <= after
    assert moment.tzinfo is UTC


def test_uuid7_time_of_a_known_id() -> None:
    millis = 1_700_000_000_123
    value = (millis << 80) | (0x7 << 76) | (0b10 << 62) | 0x1234
    assert uuid7_time(uuid.UUID(int=value)) == datetime(2023, 11, 14, 22, 13, 20, 123000, UTC)


def test_uuid7_time_orders_like_the_ids() -> None:
    ids = [uuid.UUID(bytes=uuid_utils.uuid7().bytes) for _ in range(50)]
    assert [uuid7_time(i) for i in ids] == sorted(uuid7_time(i) for i in ids)
