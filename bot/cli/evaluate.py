"""`compute-desk eval`: run a question file with gold answers and print the judged figures per retriever."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bot.cli.common import engine_from
from knowledge.embed import memo_for
from knowledge.evaluation import format_table, load_questions, run_eval


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "eval",
        help="judge answers on a question file (hybrid, bm25 and dense side by side)",
        description="Example: compute-desk --db corpus.db eval ../shared/eval/dev.jsonl",
    )
    p.add_argument("file", help="JSON Lines in the shared/eval/FORMAT.md form")
    p.add_argument("--retrievers", default="hybrid,bm25,dense", help="comma-separated (default: all three)")
    p.add_argument("--answers-dir", help="also write each retriever's ask --json lines here (for judge.py)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    questions = load_questions(args.file)
    retrievers = [r.strip() for r in args.retrievers.split(",") if r.strip()]
    engine = engine_from(args)
    out_dir = Path(args.answers_dir) if args.answers_dir else None
    if out_dir:
        out_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, object] = {}

    def ask(question: str, retriever: str) -> dict:
        # Evaluation questions are not user questions: they are not logged as gaps.
        answer = engine.ask(question, retriever=retriever, asker="eval", log_gap=False).to_json()
        if out_dir:
            if retriever not in files:
                files[retriever] = (out_dir / f"{retriever}.jsonl").open("w", encoding="utf-8")
            answer_with_id = dict(answer, id=ids[question])
            files[retriever].write(json.dumps(answer_with_id) + "\n")
        return answer

    ids = {q["question"]: q["id"] for q in questions}
    try:
        results = run_eval(ask, questions, retrievers, before_each=memo_for(engine.embedder).clear)
    finally:
        for fh in files.values():
            fh.close()
    if args.json:
        print(json.dumps({r: {g: row.rates() for g, row in rows.items()} for r, rows in results.items()}, indent=2))
    else:
        print(format_table(results))
    return 0
