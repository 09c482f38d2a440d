"""`compute-desk ask`: answer questions from the knowledge base, with citations."""

from __future__ import annotations

import argparse

from bot.cli.common import engine_from, print_json, read_questions
from knowledge.errors import BadInputError
from knowledge.results import Answer, Source


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "ask",
        help="answer a question with cited sources",
        description="Answer questions from the knowledge base. Example: compute-desk ask \"how does akash's take rate work?\"",
    )
    p.add_argument("question", nargs="*", help="the question (or use --file)")
    p.add_argument("--file", help="JSON Lines (id, question) or plain text, one question a line; '-' for stdin")
    p.add_argument("--json", action="store_true", help="one JSON object per question, one per line")
    p.add_argument("--protocol", help="only this protocol's documents (id, name or ticker)")
    p.add_argument("--k", type=int, default=5, help="how many sources (default 5)")
    p.add_argument("--retriever", choices=["hybrid", "bm25", "dense"], default="hybrid")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.file:
        questions = read_questions(args.file)
    elif args.question:
        questions = [{"id": None, "question": " ".join(args.question)}]
    else:
        raise BadInputError("give a question, or --file FILE")
    engine = engine_from(args)
    status = 0
    for q in questions:
        try:
            answer = engine.ask(q["question"], protocol=args.protocol, k=args.k, retriever=args.retriever,
                                asker="cli", qid=q.get("id"))
        except BadInputError as exc:
            if len(questions) == 1:
                raise
            answer = Answer(question=str(q.get("question", ""))[:200], answer=f"error: {exc}", declined=True,
                            confidence=0.0, id=q.get("id"))
            status = 1
        if args.json:
            print_json(answer.to_json())
        else:
            print(format_answer(answer))
    return status


def format_answer(answer: Answer) -> str:
    """Plain text for a terminal: the answer, then numbered sources."""
    lines = [answer.answer, ""]
    label = "declined" if answer.declined else f"confidence {answer.confidence:.2f}"
    cited = answer.sources if answer.declined else answer.cited_sources()
    rest = [s for s in answer.sources if s not in cited]
    first = "Nearest sources:" if answer.declined else "Sources:"
    for heading, group in ((first, cited), ("Also retrieved:", rest)):
        if group:
            lines.append(heading)
            lines.extend(_source_line(s) for s in group)
    lines.append(f"({label}, {answer.timing_ms:.0f} ms)")
    return "\n".join(lines)


def _source_line(s: Source) -> str:
    where = " — ".join(x for x in (s.title, s.section) if x)
    extra = ", ".join(x for x in (s.date, s.url or s.path) if x)
    return f"  [{s.rank}] {where} ({extra})"
