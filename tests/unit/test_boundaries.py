"""The architecture's import rules, read from the source: the edge and the
console talk to the control plane only through gRPC (proto/), and the shared
packages depend on no service."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = {
    "edge": {"control", "console"},
    "console": {"control", "edge"},
    "common": {"control", "edge", "console"},
    "classifier": {"control", "edge", "console"},
    "signing": {"control", "edge", "console"},
}


def imported_packages(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_package_imports_none_of_the_services_it_must_not_know(package: str) -> None:
    sources = sorted((ROOT / package).rglob("*.py"))
    assert sources, package
    crossings = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) & FORBIDDEN[package])
        for path in sources
    }
    assert {path: names for path, names in crossings.items() if names} == {}


def test_the_rule_sees_an_import_it_forbids(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("import control.server\nfrom edge.app import create_app\nfrom . import x\n")
    assert imported_packages(module) == {"control", "edge"}
