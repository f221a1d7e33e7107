"""Edge settings, read once from the environment."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator, model_validator

from common.settings import EnvSettings, Keys, env


class EdgeSettings(EnvSettings):
    missing_hints: ClassVar[dict[str, str]] = {
        "SMARTURLS_CONTROL_API_KEY": "make one: python -m control keys create --role edge",
    }
    secret_variables: ClassVar[frozenset[str]] = frozenset(
        {"SMARTURLS_CONTROL_API_KEY", "SMARTURLS_SIGNING_KEYS"}
    )

    # host:port of the control plane's gRPC server.
    control_address: str = env("SMARTURLS_CONTROL_ADDRESS", "127.0.0.1:50051")
    # The edge's API key (role edge), sent on every call to the control plane.
    control_api_key: Annotated[str, BeforeValidator(str.strip)] = env("SMARTURLS_CONTROL_API_KEY")
    # CA (or self-signed certificate) PEM the control plane's TLS certificate is
    # checked against; None: plaintext gRPC (loopback, or a mesh that encrypts).
    control_tls_ca: Path | None = env("SMARTURLS_CONTROL_TLS_CA", None)
    # The same keys the control plane mints with, "ID:BASE64,...".
    signing_keys: Keys = env("SMARTURLS_SIGNING_KEYS")
    # Interface and port the edge listens on.
    host: str = env("SMARTURLS_EDGE_HOST", "127.0.0.1")
    port: int = env("SMARTURLS_EDGE_PORT", 8080, ge=0, le=65535)
    # Seconds a resolved link stays cached (in process and in Redis).
    cache_ttl: float = env("SMARTURLS_EDGE_CACHE_TTL", 3600.0, gt=0)
    # Links the in-process cache holds at most; the oldest go first.
    cache_max_entries: int = env("SMARTURLS_EDGE_CACHE_MAX_ENTRIES", 1_000_000, gt=0)
    # Seconds a token whose MAC is valid but whose link is gone stays cached as such.
    negative_ttl: float = env("SMARTURLS_EDGE_NEGATIVE_TTL", 60.0, ge=0)
    # redis://host:port/db of the shared cache tier; None: in-process only.
    redis_url: str | None = env("REDIS_URL", None)
    # Seconds between click flushes; a full batch flushes at once.
    flush_interval: float = env("SMARTURLS_EDGE_FLUSH_INTERVAL", 0.05, gt=0)
    # Clicks per batch sent to the control plane.
    max_batch: int = env("SMARTURLS_EDGE_MAX_BATCH", 1000, gt=0)
    # Seconds a cache miss may wait for the control plane before answering 503.
    resolve_timeout: float = env("SMARTURLS_EDGE_RESOLVE_TIMEOUT", 2.0, gt=0)
    # Seconds SIGTERM waits for buffered clicks to be acknowledged (then they are spooled).
    drain_timeout: float = env("SMARTURLS_EDGE_DRAIN_TIMEOUT", 10.0, ge=0)
    # Local state; the spool's default folder is below it.
    data_dir: Path = env("SMARTURLS_DATA_DIR", Path(".smarturls"))
    # Where unacknowledged clicks are spooled while the control plane is away
    # (default: edge-spool in data_dir).
    spool_dir: Path = env("SMARTURLS_EDGE_SPOOL_DIR")
    # Answer a click only once it is fsync'd in the spool: no loss even on SIGKILL.
    durable_clicks: bool = env("SMARTURLS_EDGE_DURABLE_CLICKS", False)
    # Addresses of proxies whose X-Forwarded-For is trusted (uvicorn's forwarded_allow_ips).
    trusted_proxies: str = env("SMARTURLS_EDGE_TRUSTED_PROXIES", "127.0.0.1")

    @model_validator(mode="before")
    @classmethod
    def _spool_in_data_dir(cls, values: Any) -> Any:
        if isinstance(values, dict) and not (
            values.get("SMARTURLS_EDGE_SPOOL_DIR") or values.get("spool_dir")
        ):
            data_dir = values.get("SMARTURLS_DATA_DIR") or values.get("data_dir") or ".smarturls"
            values = {**values, "spool_dir": Path(data_dir) / "edge-spool"}
        return values
