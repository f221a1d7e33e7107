"""Every metric the Grafana dashboard and the alert rules query is one the
edge, the control plane or the console exposes: a renamed metric would leave a panel empty
and an alert silent, with nothing failing."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from prometheus_client import REGISTRY

import console.metrics
import control.api.edge
import control.api.errors
import control.domain.rollups
import edge.metrics

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
METRIC = re.compile(r"\bsmarturls_[a-z0-9_]+")
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}


def exposed() -> set[str]:
    assert control.api.edge and control.api.errors and control.domain.rollups and edge.metrics
    assert console.metrics
    names = set()
    for family in REGISTRY.collect():
        for suffix in SUFFIXES.get(family.type, ("",)):
            names.add(family.name + suffix)
    return names


def queried_by_dashboard() -> set[str]:
    dashboard = json.loads((DEPLOY / "grafana" / "dashboards" / "smarturls.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    return {m for expr in exprs for m in METRIC.findall(expr)}


def queried_by_alerts() -> set[str]:
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    exprs = [r["expr"] for g in rules["groups"] for r in g["rules"]]
    return {m for expr in exprs for m in METRIC.findall(expr)}


def test_the_dashboard_queries_only_live_metrics() -> None:
    queried = queried_by_dashboard()
    assert "smarturls_edge_click_ack_lag_seconds_bucket" in queried
    assert "smarturls_console_page_seconds_bucket" in queried
    assert queried - exposed() == set()


def test_the_alert_rules_query_only_live_metrics() -> None:
    queried = queried_by_alerts()
    assert "smarturls_edge_click_ack_lag_seconds_bucket" in queried
    assert queried - exposed() == set()
