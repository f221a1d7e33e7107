"""The rules every stored click meets, whichever wire form brought it."""

from __future__ import annotations

import time

import pytest

from control.domain.click_batches import check_click_rows
from control.domain.errors import InvalidArgument
from control.domain.model import ClickRow

NOW_US = int(time.time() * 1e6)


def row(click_id: bytes = b"c" * 16, at_us: int = NOW_US, hit_class: str = "human") -> ClickRow:
    return (click_id, 1, at_us, "GET", "Mozilla/5.0", "203.0.113.0/24", "", hit_class, "")


def test_good_clicks_and_an_empty_batch_pass() -> None:
    check_click_rows([row(), row(b"d" * 16, NOW_US - 10**9, "scanner")])
    check_click_rows([])


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        (row(click_id=b"short"), "clicks.click_id"),
        (row(at_us=NOW_US + 2 * 86_400 * 10**6), "clicks.clicked_at"),
        (row(at_us=0), "clicks.clicked_at"),
        (row(hit_class="robot"), "clicks.hit_class"),
    ],
)
def test_one_bad_click_refuses_the_batch_naming_the_field(bad: ClickRow, field: str) -> None:
    with pytest.raises(InvalidArgument, match=f"^{field}: "):
        check_click_rows([row(), bad, row()])


def test_a_clock_a_little_ahead_is_tolerated() -> None:
    check_click_rows([row(at_us=NOW_US + 3600 * 10**6)])
