from __future__ import annotations

import pytest

from console.sessions import Session, SessionStore


class Clock:
    """Stands in for time.monotonic: stays put until moved."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr("console.sessions.time.monotonic", fake)
    return fake


def _session(clock: Clock, name: str = "Acme") -> Session:
    # last_seen given explicitly: the dataclass's default_factory holds the real
    # time.monotonic, bound before the clock is replaced.
    return Session(
        api_key=f"key-{name}",
        account_id=7,
        account_name=name,
        key_name="console",
        last_seen=clock(),
    )


def test_open_returns_distinct_unguessable_ids(clock: Clock) -> None:
    store = SessionStore(idle_seconds=3600)
    ids = [store.open(_session(clock)) for _ in range(200)]
    assert len(set(ids)) == len(ids)
    assert all(len(i) >= 40 for i in ids)
    # Cookie-safe characters only.
    assert all(c.isalnum() or c in "-_" for i in ids for c in i)
    assert len(store) == 200


def test_find_returns_the_session_it_opened(clock: Clock) -> None:
    store = SessionStore(idle_seconds=3600)
    acme, other = _session(clock, "Acme"), _session(clock, "Other")
    acme_id, other_id = store.open(acme), store.open(other)
    assert store.find(acme_id) is acme
    assert store.find(other_id) is other


@pytest.mark.parametrize("session_id", [None, "", "no-such-session"])
def test_find_without_a_known_id_is_none(clock: Clock, session_id: str | None) -> None:
    store = SessionStore(idle_seconds=3600)
    store.open(_session(clock))
    assert store.find(session_id) is None
    assert len(store) == 1


def test_close_removes_the_session(clock: Clock) -> None:
    store = SessionStore(idle_seconds=3600)
    kept, closed = store.open(_session(clock)), store.open(_session(clock))
    store.close(closed)
    assert store.find(closed) is None
    assert store.find(kept) is not None
    assert len(store) == 1


@pytest.mark.parametrize("session_id", [None, "", "no-such-session"])
def test_closing_an_unknown_id_is_harmless(clock: Clock, session_id: str | None) -> None:
    store = SessionStore(idle_seconds=3600)
    store.open(_session(clock))
    store.close(session_id)
    assert len(store) == 1


def test_a_session_idle_too_long_is_gone(clock: Clock) -> None:
    store = SessionStore(idle_seconds=60)
    old = store.open(_session(clock))
    clock.advance(30)
    young = store.open(_session(clock))
    clock.advance(31)  # old: 61 s idle, young: 31 s
    assert store.find(old) is None
    assert store.find(young) is not None
    assert len(store) == 1


def test_a_session_idle_exactly_the_limit_is_kept(clock: Clock) -> None:
    store = SessionStore(idle_seconds=60)
    session_id = store.open(_session(clock))
    clock.advance(60)
    assert store.find(session_id) is not None


def test_finding_a_session_restarts_its_idle_clock(clock: Clock) -> None:
    store = SessionStore(idle_seconds=60)
    busy = store.open(_session(clock, "busy"))
    idle = store.open(_session(clock, "idle"))
    for _ in range(5):
        clock.advance(50)
        assert store.find(busy) is not None
    # 250 s since it opened, 50 s since it was last found.
    assert store.find(busy) is not None
    assert store.find(idle) is None


def test_a_session_found_out_of_order_is_not_dropped_behind_a_stale_one(clock: Clock) -> None:
    """Expiry looks at the least recently seen first: a session found again
    must move behind the ones that were not."""
    store = SessionStore(idle_seconds=60)
    first = store.open(_session(clock, "first"))
    clock.advance(10)
    second = store.open(_session(clock, "second"))
    clock.advance(40)
    assert store.find(first) is not None  # first seen at 50, second at 10
    clock.advance(55)  # now 105: first idle 55 s, second 95 s
    assert store.find(second) is None
    assert store.find(first) is not None


def test_opening_a_session_sweeps_out_the_idle_ones(clock: Clock) -> None:
    store = SessionStore(idle_seconds=60)
    for _ in range(3):
        store.open(_session(clock))
    clock.advance(61)
    store.open(_session(clock))
    assert len(store) == 1


def test_the_table_is_bounded_and_evicts_the_least_recently_seen(clock: Clock) -> None:
    store = SessionStore(idle_seconds=3600, max_sessions=3)
    a = store.open(_session(clock, "a"))
    clock.advance(1)
    b = store.open(_session(clock, "b"))
    clock.advance(1)
    c = store.open(_session(clock, "c"))
    clock.advance(1)
    assert store.find(a) is not None  # a is now the most recently seen
    d = store.open(_session(clock, "d"))
    assert len(store) == 3
    assert store.find(b) is None
    assert all(store.find(i) is not None for i in (a, c, d))
    e = store.open(_session(clock, "e"))
    assert len(store) == 3
    # a, c and d were all just found in that order, so a goes first.
    assert store.find(a) is None
    assert all(store.find(i) is not None for i in (c, d, e))


def test_a_store_of_one_keeps_only_the_newest(clock: Clock) -> None:
    store = SessionStore(idle_seconds=3600, max_sessions=1)
    first = store.open(_session(clock, "first"))
    second = store.open(_session(clock, "second"))
    assert store.find(first) is None
    assert store.find(second) is not None
    assert len(store) == 1
