"""Edge settings, read once from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from signing.keys import SigningKeys


@dataclass(frozen=True, slots=True)
class EdgeSettings:
    # host:port of the control plane's gRPC server.
    control_address: str
    # The edge's API key (role edge), sent on every call to the control plane.
    control_api_key: str
    # CA (or self-signed certificate) PEM the control plane's TLS certificate is
    # checked against; None: plaintext gRPC (loopback, or a mesh that encrypts).
    control_tls_ca: Path | None
    # The same keys the control plane mints with, "ID:BASE64,...".
    signing_keys: SigningKeys
    # Interface and port the edge listens on.
    host: str
    port: int
    # Seconds a resolved link stays cached (in process and in Redis).
    cache_ttl: float
    # Links the in-process cache holds at most; the oldest go first.
    cache_max_entries: int
    # Seconds a token whose MAC is valid but whose link is gone stays cached as such.
    negative_ttl: float
    # redis://host:port/db of the shared cache tier; None: in-process only.
    redis_url: str | None
    # Seconds between click flushes; a full batch flushes at once.
    flush_interval: float
    # Clicks per batch sent to the control plane.
    max_batch: int
    # Seconds a cache miss may wait for the control plane before answering 503.
    resolve_timeout: float
    # Seconds SIGTERM waits for buffered clicks to be acknowledged (then they are spooled).
    drain_timeout: float
    # Where unacknowledged clicks are spooled while the control plane is away.
    spool_dir: Path
    # Answer a click only once it is fsync'd in the spool: no loss even on SIGKILL.
    durable_clicks: bool
    # Addresses of proxies whose X-Forwarded-For is trusted (uvicorn's forwarded_allow_ips).
    trusted_proxies: str

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> EdgeSettings:
        env = dict(os.environ) if env is None else env
        keys = env.get("SMARTURLS_SIGNING_KEYS")
        if not keys:
            raise SystemExit("SMARTURLS_SIGNING_KEYS is not set")
        api_key = env.get("SMARTURLS_CONTROL_API_KEY")
        if not api_key:
            raise SystemExit(
                "SMARTURLS_CONTROL_API_KEY is not set"
                " (make one: python -m control keys create --role edge)"
            )
        tls_ca = env.get("SMARTURLS_CONTROL_TLS_CA")
        data_dir = Path(env.get("SMARTURLS_DATA_DIR", ".smarturls"))
        return cls(
            control_address=env.get("SMARTURLS_CONTROL_ADDRESS", "127.0.0.1:50051"),
            control_api_key=api_key.strip(),
            control_tls_ca=Path(tls_ca) if tls_ca else None,
            signing_keys=SigningKeys.parse(keys),
            host=env.get("SMARTURLS_EDGE_HOST", "127.0.0.1"),
            port=int(env.get("SMARTURLS_EDGE_PORT", "8080")),
            cache_ttl=float(env.get("SMARTURLS_EDGE_CACHE_TTL", "3600")),
            cache_max_entries=int(env.get("SMARTURLS_EDGE_CACHE_MAX_ENTRIES", "1000000")),
            negative_ttl=float(env.get("SMARTURLS_EDGE_NEGATIVE_TTL", "60")),
            redis_url=env.get("REDIS_URL") or None,
            flush_interval=float(env.get("SMARTURLS_EDGE_FLUSH_INTERVAL", "0.05")),
            max_batch=int(env.get("SMARTURLS_EDGE_MAX_BATCH", "1000")),
            resolve_timeout=float(env.get("SMARTURLS_EDGE_RESOLVE_TIMEOUT", "2")),
            drain_timeout=float(env.get("SMARTURLS_EDGE_DRAIN_TIMEOUT", "10")),
            spool_dir=Path(env.get("SMARTURLS_EDGE_SPOOL_DIR", str(data_dir / "edge-spool"))),
            durable_clicks=env.get("SMARTURLS_EDGE_DURABLE_CLICKS", "") in ("1", "true", "yes"),
            trusted_proxies=env.get("SMARTURLS_EDGE_TRUSTED_PROXIES", "127.0.0.1"),
        )
