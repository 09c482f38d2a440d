"""Helpers shared by the command modules: opening the engine, reading question files, printing."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from knowledge.errors import BadInputError


def engine_from(args: Any):
    """Open the engine on --db (or COMPUTE_DESK_DB / the default), creating it with the starter pack."""
    from knowledge.engine import open_engine

    return open_engine(getattr(args, "db", None))


def read_questions(path: str) -> list[dict]:
    """A batch file: JSON Lines with at least id and question, or plain text with one question a line."""
    try:
        text = Path(path).read_text(encoding="utf-8") if path != "-" else sys.stdin.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInputError(f"{path}: cannot read ({exc.__class__.__name__})") from None
    questions: list[dict] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        if line.startswith("{"):
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                raise BadInputError(f"{path}:{number}: not valid JSON") from None
            if not isinstance(row, dict) or "question" not in row:
                raise BadInputError(f"{path}:{number}: a JSON line needs a 'question' field")
            row.setdefault("id", number)
            questions.append(row)
        else:
            questions.append({"id": number, "question": line})
    return questions


def is_tty() -> bool:
    return sys.stdout.isatty()


def print_json(obj: Any) -> None:
    print(json.dumps(obj, ensure_ascii=False, default=str), flush=True)
