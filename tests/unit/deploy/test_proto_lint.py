"""buf lint over the .proto files, with the repository's buf.yaml."""

from __future__ import annotations

from tests.unit.deploy.conftest import ROOT, run, unavailable


def test_buf_lint(buf: str) -> None:
    configs = [path for path in (ROOT / "proto" / "buf.yaml", ROOT / "buf.yaml") if path.exists()]
    if not configs:
        unavailable("no buf.yaml (proto/buf.yaml) to lint with")
    # buf lints the module(s) its buf.yaml describes, relative to that directory.
    run(buf, "lint", cwd=configs[0].parent)
