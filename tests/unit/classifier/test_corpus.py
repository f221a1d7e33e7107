"""The classifier against real user agents from public sources (tests/data/
user_agents.csv: label, agent, where it came from). The line that matters most
is human against everything else: a person counted as a bot loses a share or an
order; a scanner counted as a person fakes one."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from classifier import BOT, HUMAN, PREVIEW, SCANNER, classify_agent

CORPUS = Path(__file__).resolve().parents[2] / "data" / "user_agents.csv"
LABELS = (HUMAN, PREVIEW, SCANNER, BOT)


def corpus() -> list[dict[str, str]]:
    with CORPUS.open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def confusion(rows: list[dict[str, str]]) -> tuple[Counter[tuple[str, str]], list[str]]:
    matrix: Counter[tuple[str, str]] = Counter()
    wrong = []
    for row in rows:
        verdict = classify_agent(row["user_agent"])
        matrix[row["label"], verdict.hit_class] += 1
        if verdict.hit_class != row["label"]:
            wrong.append(f"  {row['label']:>7} -> {verdict.hit_class:<7} {row['user_agent'][:100]}")
    return matrix, wrong


def report(matrix: Counter[tuple[str, str]], wrong: list[str]) -> str:
    lines = ["labelled \\ classified  " + "  ".join(f"{c:>7}" for c in LABELS)]
    for label in LABELS:
        lines.append(f"{label:>21}  " + "  ".join(f"{matrix[label, c]:>7}" for c in LABELS))
    return "\n".join([*lines, "wrong:", *wrong])


def test_the_corpus_is_large_labelled_and_sourced() -> None:
    rows = corpus()
    assert len(rows) >= 400
    assert len({r["user_agent"] for r in rows}) == len(rows), "an agent listed twice"
    assert {r["label"] for r in rows} == set(LABELS)
    assert all(r["source"].strip() and r["user_agent"].strip() for r in rows)
    assert min(Counter(r["label"] for r in rows).values()) >= 20


def test_the_human_line_is_right_99_times_in_100_and_the_class_97() -> None:
    rows = corpus()
    matrix, wrong = confusion(rows)
    on_the_line = sum(n for (label, got), n in matrix.items() if (label == HUMAN) == (got == HUMAN))
    exact = sum(n for (label, got), n in matrix.items() if label == got)
    assert on_the_line / len(rows) >= 0.99 and exact / len(rows) >= 0.97, (
        f"human line {on_the_line / len(rows):.1%}, exact {exact / len(rows):.1%}\n"
        + report(matrix, wrong)
    )
