"""Control-plane settings, read once from the environment."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, ClassVar, Self

from pydantic import AfterValidator, model_validator

from common.settings import EnvSettings, Keys, env


class ControlSettings(EnvSettings):
    missing_hints: ClassVar[dict[str, str]] = {
        "SMARTURLS_SIGNING_KEYS": "python3 tasks.py run makes one"
    }
    secret_variables: ClassVar[frozenset[str]] = frozenset(
        {"SMARTURLS_SIGNING_KEYS", "DATABASE_URL"}
    )

    # PostgreSQL to use; None starts the embedded server in `data_dir`.
    database_url: str | None = env("DATABASE_URL", None)
    # Local state of the embedded default (pgdata lives below it).
    data_dir: Annotated[Path, AfterValidator(Path.resolve)] = env(
        "SMARTURLS_DATA_DIR", Path(".smarturls"), validate_default=True
    )
    # host:port of the gRPC server.
    grpc_listen: str = env("SMARTURLS_GRPC_LISTEN", "127.0.0.1:50051")
    # Port of the Prometheus /metrics HTTP server; 0 disables it.
    metrics_port: int = env("SMARTURLS_CONTROL_METRICS_PORT", 9464, ge=0, le=65535)
    # Interface of that server (0.0.0.0 in containers, so Prometheus can reach it).
    metrics_addr: str = env("SMARTURLS_CONTROL_METRICS_ADDR", "127.0.0.1")
    # Token and mbsy_source keys, "ID:BASE64,..." with the minting key first.
    signing_keys: Keys = env("SMARTURLS_SIGNING_KEYS")
    # Seconds in-flight RPCs get to finish on SIGTERM.
    shutdown_grace: float = env("SMARTURLS_SHUTDOWN_GRACE", 5.0, ge=0)
    # PEM certificate (chain) and private key: with both, the gRPC port serves TLS only.
    tls_cert: Path | None = env("SMARTURLS_TLS_CERT", None)
    tls_key: Path | None = env("SMARTURLS_TLS_KEY", None)
    # Days raw clicks are kept (whole weekly partitions are dropped after); 0 keeps
    # them forever. Rollups are kept regardless.
    click_retention_days: int = env("SMARTURLS_CLICK_RETENTION_DAYS", 400, ge=0)

    @model_validator(mode="after")
    def _tls_needs_both_files(self) -> Self:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("set both SMARTURLS_TLS_CERT and SMARTURLS_TLS_KEY, or neither")
        return self


def data_dir_from_env(env: dict[str, str]) -> Path:
    """Local state of the embedded default (also what `keys` needs without the rest)."""
    return Path(env.get("SMARTURLS_DATA_DIR") or ".smarturls").resolve()
