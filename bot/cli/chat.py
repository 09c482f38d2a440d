"""`compute-desk chat`: the interactive console chat (also scriptable through stdin)."""

from __future__ import annotations

import argparse
import sys

from bot.cli.common import engine_from


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("chat", help="chat in the terminal: questions, /compare, /metrics, /score, /kb ...",
                       description="Example: echo 'How does Akash pricing work?' | compute-desk chat")
    p.add_argument("--protocol", help="keep questions on one protocol (like /protocol NAME)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bot.chat import ConsoleChat

    engine = engine_from(args)
    chat = ConsoleChat(engine, interactive=sys.stdin.isatty())
    if args.protocol:
        chat.protocol = engine.registry.get(args.protocol).id
    return chat.run(sys.stdin)
