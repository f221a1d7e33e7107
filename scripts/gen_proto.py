"""Regenerates the committed gRPC code from proto/smarturls/v1/*.proto.

With --check it writes nothing and exits 1 when the committed files are stale.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import grpc_tools
from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "proto"
PACKAGE_DIR = PROTO_ROOT / "smarturls" / "v1"
GENERATED_SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py")


def generate(out_dir: Path) -> None:
    well_known = Path(grpc_tools.__file__).parent / "_proto"
    protos = sorted(str(p.relative_to(PROTO_ROOT)) for p in PACKAGE_DIR.glob("*.proto"))
    code = protoc.main(
        [
            "grpc_tools.protoc",
            f"-I{PROTO_ROOT}",
            f"-I{well_known}",
            f"--python_out={out_dir}",
            f"--pyi_out={out_dir}",
            f"--grpc_python_out={out_dir}",
            *protos,
        ]
    )
    if code != 0:
        raise SystemExit(f"protoc failed with exit code {code}")


def generated_files(base: Path) -> dict[str, bytes]:
    package = base / "smarturls" / "v1"
    return {
        p.name: p.read_bytes()
        for p in sorted(package.iterdir())
        if p.name.endswith(GENERATED_SUFFIXES)
    }


def main(argv: list[str]) -> int:
    if "--check" in argv:
        with tempfile.TemporaryDirectory() as tmp:
            generate(Path(tmp))
            fresh, committed = generated_files(Path(tmp)), generated_files(PROTO_ROOT)
        stale = sorted(
            n for n in fresh.keys() | committed.keys() if fresh.get(n) != committed.get(n)
        )
        if stale:
            print("stale generated code, run `python3 tasks.py proto`:", *stale)
            return 1
        return 0
    generate(PROTO_ROOT)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
