"""Evaluation by the rules of shared/eval/FORMAT.md (the same rules as its judge.py), for several retrievers.

For each question, with `answer` cut to its first 1,000 characters and both sides lower-cased with runs of
whitespace made one space: answer hit (answerable: not declined and some answer_any string occurs), source
recall@5, MRR, unanswerable correctly declined, answerable wrongly declined; plus latency p50/p99.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from knowledge.errors import BadInputError


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", (text or "").lower())


@dataclass
class Row:
    """Totals for one group (overall or a protocol)."""

    answerable: int = 0
    unanswerable: int = 0
    hit: float = 0.0
    recall5: float = 0.0
    mrr: float = 0.0
    wrongly_declined: float = 0.0
    declined_ok: float = 0.0
    latencies: list[float] = field(default_factory=list)

    def rates(self) -> dict[str, float | None]:
        na, nu = self.answerable, self.unanswerable
        lat = np.array(self.latencies) if self.latencies else np.array([0.0])
        return {
            "n": na + nu,
            "hit": self.hit / na if na else None,
            "recall@5": self.recall5 / na if na else None,
            "mrr": self.mrr / na if na else None,
            "declined_ok": self.declined_ok / nu if nu else None,
            "wrongly_declined": self.wrongly_declined / na if na else None,
            "p50_ms": float(np.percentile(lat, 50)),
            "p99_ms": float(np.percentile(lat, 99)),
        }


def load_questions(path: str | Path) -> list[dict[str, Any]]:
    """A question file in the FORMAT.md form; clear errors for malformed lines."""
    out = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInputError(f"{path}: cannot read ({type(exc).__name__})") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            q = json.loads(line)
        except json.JSONDecodeError:
            raise BadInputError(f"{path}:{number}: not valid JSON") from None
        if not isinstance(q, dict) or not {"id", "question", "answerable"} <= q.keys():
            raise BadInputError(f"{path}:{number}: needs id, question and answerable")
        if q["answerable"] and not q.get("answer_any"):
            raise BadInputError(f"{path}:{number}: an answerable question needs answer_any")
        out.append(q)
    return out


def judge(questions: list[dict], answers: dict[Any, dict]) -> dict[str, Row]:
    """Score answers (ask --json objects keyed by id) against the questions, per protocol and overall."""
    rows: dict[str, Row] = defaultdict(Row)
    for q in questions:
        a = answers.get(q["id"], {"answer": "", "declined": False, "sources": [], "timing_ms": 0.0})
        paths = [s.get("path") for s in a.get("sources", [])]
        for group in ("all", q.get("protocol", "?")):
            r = rows[group]
            r.latencies.append(float(a.get("timing_ms", 0.0)))
            if q["answerable"]:
                r.answerable += 1
                text = _norm(a.get("answer", "")[:1000])
                r.hit += (not a.get("declined")) and any(_norm(x) in text for x in q["answer_any"])
                r.recall5 += any(p in q.get("sources", []) for p in paths[:5])
                rank = next((i for i, p in enumerate(paths) if p in q.get("sources", [])), None)
                r.mrr += 0 if rank is None else 1 / (rank + 1)
                r.wrongly_declined += bool(a.get("declined"))
            else:
                r.unanswerable += 1
                r.declined_ok += bool(a.get("declined"))
    return dict(rows)


def run_eval(
    ask: Callable[[str, str], dict],
    questions: list[dict],
    retrievers: list[str],
    before_each: Callable[[], None] | None = None,
) -> dict[str, dict[str, Row]]:
    """Ask every question with every retriever; `ask(question, retriever)` returns an ask --json object.

    `before_each` runs before each retriever's pass (the CLI empties the sentence-vector memo there, so
    a later retriever's latency is not flattered by the sentences an earlier one embedded)."""
    results: dict[str, dict[str, Row]] = {}
    for retriever in retrievers:
        if before_each is not None:
            before_each()
        answers = {q["id"]: ask(q["question"], retriever) for q in questions}
        results[retriever] = judge(questions, answers)
    return results


def format_table(results: dict[str, dict[str, Row]]) -> str:
    """One table: a row per retriever and group (overall first, then protocols)."""
    head = f"{'retriever':<8} {'group':<10} {'n':>3} {'hit':>6} {'rec@5':>6} {'mrr':>6} {'decl-ok':>8} {'wrongdec':>8} {'p50ms':>7} {'p99ms':>7}"
    lines = [head, "-" * len(head)]
    for retriever, rows in results.items():
        for group in ["all"] + sorted(g for g in rows if g != "all"):
            r = rows[group].rates()
            cell = lambda v: "-" if v is None else f"{v:.2f}"  # noqa: E731
            lines.append(
                f"{retriever:<8} {group:<10} {r['n']:>3} {cell(r['hit']):>6} {cell(r['recall@5']):>6} {cell(r['mrr']):>6}"
                f" {cell(r['declined_ok']):>8} {cell(r['wrongly_declined']):>8} {r['p50_ms']:>7.0f} {r['p99_ms']:>7.0f}"
            )
    return "\n".join(lines)
