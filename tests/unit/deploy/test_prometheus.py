"""deploy/prometheus: the config and the alerting rules are valid, and the rules'
unit tests (alerts_test.yml) pass and cover every alert both ways."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.unit.deploy.conftest import ROOT, run

PROMETHEUS = ROOT / "deploy" / "prometheus"


def _load(path: Path) -> Any:
    with path.open() as file:
        return yaml.safe_load(file)


def test_rules_are_valid(promtool: str) -> None:
    output = run(promtool, "check", "rules", "deploy/prometheus/alerts.yml")
    assert "SUCCESS" in output


def test_rule_unit_tests_pass(promtool: str) -> None:
    output = run(promtool, "test", "rules", "deploy/prometheus/alerts_test.yml")
    assert "SUCCESS" in output


def test_compose_config_is_valid(promtool: str) -> None:
    # Also loads rule_files (alerts.yml), resolved next to prometheus.yml.
    output = run(promtool, "check", "config", "deploy/prometheus/prometheus.yml")
    assert "is valid prometheus config file" in output


def test_every_alert_is_tested_firing_and_silent() -> None:
    alerts = {
        rule["alert"]
        for group in _load(PROMETHEUS / "alerts.yml")["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }
    fires, silent = set(), set()
    for case in _load(PROMETHEUS / "alerts_test.yml")["tests"]:
        for check in case.get("alert_rule_test", []):
            (fires if check.get("exp_alerts") else silent).add(check["alertname"])
    assert alerts - fires == set(), "alerts never tested firing"
    assert alerts - silent == set(), "alerts never tested staying silent"
    assert (fires | silent) - alerts == set(), "tests of alerts that do not exist"


def test_no_rule_names_a_scrape_job() -> None:
    # Job names differ between compose ("edge", "control") and Kubernetes
    # ("kubernetes-pods", "<namespace>/<podmonitor>", ...): a rule keyed on one
    # never fires on the other.
    for group in _load(PROMETHEUS / "alerts.yml")["groups"]:
        for rule in group["rules"]:
            assert "job=" not in rule["expr"].replace(" ", ""), rule.get("alert")
