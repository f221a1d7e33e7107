"""Control-plane settings, read once from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from signing.keys import SigningKeys


@dataclass(frozen=True, slots=True)
class ControlSettings:
    # PostgreSQL to use; None starts the embedded server in `data_dir`.
    database_url: str | None
    # Local state of the embedded default (pgdata lives below it).
    data_dir: Path
    # host:port of the gRPC server.
    grpc_listen: str
    # Port of the Prometheus /metrics HTTP server; 0 disables it.
    metrics_port: int
    # Interface of that server (0.0.0.0 in containers, so Prometheus can reach it).
    metrics_addr: str
    # Token and mbsy_source keys, "ID:BASE64,..." with the minting key first.
    signing_keys: SigningKeys
    # Seconds in-flight RPCs get to finish on SIGTERM.
    shutdown_grace: float
    # PEM certificate (chain) and private key: with both, the gRPC port serves TLS only.
    tls_cert: Path | None
    tls_key: Path | None
    # Days raw clicks are kept (whole weekly partitions are dropped after); 0 keeps
    # them forever. Rollups are kept regardless.
    click_retention_days: int = 400

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> ControlSettings:
        env = dict(os.environ) if env is None else env
        keys = env.get("SMARTURLS_SIGNING_KEYS")
        if not keys:
            raise SystemExit("SMARTURLS_SIGNING_KEYS is not set (python3 tasks.py run makes one)")
        tls_cert = env.get("SMARTURLS_TLS_CERT") or None
        tls_key = env.get("SMARTURLS_TLS_KEY") or None
        if (tls_cert is None) != (tls_key is None):
            raise SystemExit("set both SMARTURLS_TLS_CERT and SMARTURLS_TLS_KEY, or neither")
        return cls(
            database_url=env.get("DATABASE_URL") or None,
            data_dir=data_dir_from_env(env),
            grpc_listen=env.get("SMARTURLS_GRPC_LISTEN", "127.0.0.1:50051"),
            metrics_port=int(env.get("SMARTURLS_CONTROL_METRICS_PORT", "9464")),
            metrics_addr=env.get("SMARTURLS_CONTROL_METRICS_ADDR", "127.0.0.1"),
            signing_keys=SigningKeys.parse(keys),
            shutdown_grace=float(env.get("SMARTURLS_SHUTDOWN_GRACE", "5")),
            tls_cert=Path(tls_cert) if tls_cert else None,
            tls_key=Path(tls_key) if tls_key else None,
            click_retention_days=int(env.get("SMARTURLS_CLICK_RETENTION_DAYS", "400")),
        )


def data_dir_from_env(env: dict[str, str]) -> Path:
    """Local state of the embedded default (also what `keys` needs without the rest)."""
    return Path(env.get("SMARTURLS_DATA_DIR", ".smarturls")).resolve()
