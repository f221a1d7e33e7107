"""Who is asking: a human, a mail-security scanner, a link previewer, or another bot.

Pure and cached per distinct user-agent string and per client address, so the
edge's hot path pays a dict lookup. The edge decides what it can see (user
agent, method, address); the control plane adds what only it knows at ingest
(seconds since the message was sent, several links of one message opened in a
burst, control/domain/hit_rules.py), and reruns this module on stored hits
when its data changes (`python -m control reclassify`).
"""

from __future__ import annotations

from functools import lru_cache

from classifier.agents import BOT, HUMAN, PREVIEW, SCANNER, Verdict, classify_agent
from classifier.networks import client_facts, stored_prefix_network

__all__ = [
    "BOT",
    "HUMAN",
    "PREVIEW",
    "SCANNER",
    "Verdict",
    "classify",
    "classify_agent",
    "client_facts",
    "stored_prefix_network",
]


@lru_cache(maxsize=65536)
def _combine(agent: Verdict, head: bool, network: str | None) -> Verdict:
    hit_class, reasons = agent.hit_class, list(agent.reasons)
    if network is not None:
        reasons.append(f"ip_scanner:{network}")
        if hit_class in (HUMAN, BOT):
            hit_class = SCANNER
    if head:
        # HEAD is never a click: X and link checkers send it with browser agents.
        # A previewer's or scanner's HEAD stays theirs.
        reasons.append("head")
        if hit_class == HUMAN:
            hit_class = BOT
    return Verdict(hit_class, tuple(reasons))


def classify(method: str, user_agent: str, network: str | None) -> Verdict:
    agent = classify_agent(user_agent)
    head = method == "HEAD"
    if not head and network is None:
        return agent
    return _combine(agent, head, network)
