"""Signed-in sessions, kept server-side: the browser holds only a random
session id (an HttpOnly, SameSite cookie); the dashboard key stays here.

In memory, per process: a restart signs everyone out, and replicas need
sticky sessions (deploy/ runs one replica with ClientIP affinity).
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass, field

COOKIE = "smarturls_console"
# A browser that signs in over and over must not grow the table without bound.
MAX_SESSIONS = 100_000


@dataclass(slots=True)
class Session:
    api_key: str
    account_id: int
    account_name: str
    key_name: str
    last_seen: float = field(default_factory=time.monotonic)


class SessionStore:
    def __init__(self, idle_seconds: float, max_sessions: int = MAX_SESSIONS) -> None:
        self._idle = idle_seconds
        self._max = max_sessions
        # Least recently seen first, so expiry and eviction look at the front only.
        self._sessions: OrderedDict[str, Session] = OrderedDict()

    def open(self, session: Session) -> str:
        """Keeps `session` and returns its id, the cookie's value."""
        self._expire()
        while len(self._sessions) >= self._max:
            self._sessions.popitem(last=False)
        session_id = secrets.token_urlsafe(32)
        self._sessions[session_id] = session
        return session_id

    def find(self, session_id: str | None) -> Session | None:
        """The live session with this id (its idle clock restarts), or None."""
        if not session_id:
            return None
        self._expire()
        session = self._sessions.get(session_id)
        if session is not None:
            session.last_seen = time.monotonic()
            self._sessions.move_to_end(session_id)
        return session

    def close(self, session_id: str | None) -> None:
        if session_id:
            self._sessions.pop(session_id, None)

    def __len__(self) -> int:
        return len(self._sessions)

    def _expire(self) -> None:
        horizon = time.monotonic() - self._idle
        while self._sessions:
            oldest = next(iter(self._sessions.values()))
            if oldest.last_seen >= horizon:
                break
            self._sessions.popitem(last=False)
