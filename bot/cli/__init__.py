"""`compute-desk`: the command-line front end. Each command module parses, makes one core call, renders.

Command modules register themselves in COMMANDS; each has `register(subparsers)` and sets `func`.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from knowledge.errors import ComputeDeskError

# Modules under bot/cli/ that add subcommands, in the order `--help` lists them.
COMMANDS = ["ask", "kb", "evaluate", "metrics", "score", "compare", "protocol", "chat", "run_bot"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="compute-desk",
        description="Compute Desk: cited answers, live metrics and usage-vs-speculation scores for "
        "decentralized-compute protocols (Render, Akash, Bittensor, ...).",
    )
    parser.add_argument("--db", help="database file (default: $COMPUTE_DESK_DB or the user data dir)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    import importlib

    for name in COMMANDS:
        try:
            module = importlib.import_module(f"bot.cli.{name}")
        except ModuleNotFoundError as exc:  # a command module not written yet
            if exc.name != f"bot.cli.{name}":
                raise
            continue
        module.register(sub)
    _accept_db_everywhere(parser)
    return parser


def _accept_db_everywhere(parser: argparse.ArgumentParser) -> None:
    """Let `--db` and `-v` come after the command too (`compute-desk ask --db x.db ...`), as scripts write
    them either way. SUPPRESS keeps a command's parser from resetting a value given before the command."""
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        for child in action.choices.values():
            child.add_argument("--db", default=argparse.SUPPRESS, help="database file (as before the command)")
            child.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                               help=argparse.SUPPRESS)
            _accept_db_everywhere(child)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `compute-desk` console script."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except ComputeDeskError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `compute-desk ask ... | head`
        return 0


if __name__ == "__main__":
    sys.exit(main())
