"""Console settings, read once from the environment."""

from __future__ import annotations

from pathlib import Path

from common.settings import EnvSettings, env


class ConsoleSettings(EnvSettings):
    # host:port of the control plane's gRPC server.
    control_address: str = env("SMARTURLS_CONTROL_ADDRESS", "127.0.0.1:50051")
    # CA (or self-signed certificate) PEM the control plane's TLS certificate is
    # checked against; None: plaintext gRPC (loopback, or a mesh that encrypts).
    control_tls_ca: Path | None = env("SMARTURLS_CONTROL_TLS_CA", None)
    # Interface and port the console listens on.
    host: str = env("SMARTURLS_CONSOLE_HOST", "127.0.0.1")
    port: int = env("SMARTURLS_CONSOLE_PORT", 8090, ge=0, le=65535)
    # Seconds a page waits for the control plane before showing "not answering" (503).
    control_timeout: float = env("SMARTURLS_CONSOLE_CONTROL_TIMEOUT", 5.0, gt=0)
    # Seconds a signed-in session lasts without a page view.
    session_idle: float = env("SMARTURLS_CONSOLE_SESSION_IDLE", 8 * 3600.0, gt=0)
    # Send the session cookie over HTTPS only (set it behind a TLS-terminating proxy).
    secure_cookies: bool = env("SMARTURLS_CONSOLE_SECURE_COOKIES", False)
    # Addresses of proxies whose X-Forwarded-* headers are trusted.
    trusted_proxies: str = env("SMARTURLS_CONSOLE_TRUSTED_PROXIES", "127.0.0.1")
