"""The console chat: questions and `/compare`, `/metrics`, `/score`, `/kb ...` on the same engine as the bot.

Usable in a plain terminal and scriptable through stdin: when stdin is not a terminal there is no prompt
and no banner, just one answer block per question (blocks separated by a blank line); errors go to stderr.
Each block has no blank line inside, so blocks split on blank lines. The local console user is the operator, the CLI's moderator model: knowledge-base changes are audited as
`console:<os user>`.
"""

from __future__ import annotations

import getpass
import logging
import shlex
import sys
from typing import Any, TextIO

from bot import features
from bot.discord_bot import render
from knowledge.errors import ComputeDeskError
from knowledge.results import Answer

log = logging.getLogger(__name__)

HELP = """Type a question and press Enter. Commands:
  /compare A [B] [C]        protocols side by side (with a chart file)
  /metrics PROTOCOL         live figures with 'as of' and source
  /score PROTOCOL           usage-vs-speculation score (with a chart file)
  /kb list [PROTOCOL]       documents      /kb gaps              unanswered questions
  /kb history [KEY]         audit log      /kb add PATH_OR_URL [--protocol P] [--title T]
  /kb remove KEY            /kb restore KEY [--version N]
  /protocol NAME            keep questions on one protocol (/protocol off to stop)
  /help                     this text      /quit                 leave"""


def console_actor() -> str:
    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        user = "unknown"
    return f"console:{user}"


def format_answer(answer: Answer) -> str:
    """An answer block: text with [n] markers, numbered sources, confidence; or the decline."""
    if answer.declined:
        return " ".join(answer.answer.split()) + "\n(no sourced answer; logged as a knowledge gap)"
    lines = [" ".join(answer.answer.split()), "Sources:"]
    lines += [f"  {render.source_line(s)}" for s in answer.cited_sources()]
    lines.append(f"Confidence: {render.confidence_label(answer.confidence)}")
    return "\n".join(lines)


def format_metric(m: Any) -> str:
    """'market cap: $327.60 million (as of 2025-06-30T12:00:00Z, CoinGecko) STALE: ...' or why it is missing."""
    label = m.label or m.name
    if not m.available:
        return f"{label}: {m.value} ({m.source}{': ' + m.note if m.note else ''})"
    from knowledge.metrics.questions import format_value

    text = f"{label}: {format_value(m)} (as of {m.as_of or '?'}, {m.source})"
    return text + (f"  STALE: {m.note or 'cached; the source did not answer'}" if m.stale else "")


def format_score(data: dict[str, Any]) -> str:
    """Score, label, confidence and factors; or no score and what is missing."""
    if data.get("score") is None:
        lines = [f"{data.get('protocol')}: no score ({data.get('note') or 'not enough data'})"]
        return "\n".join(lines + list(data.get("missing") or []))
    lines = [f"{data['protocol']} as of {data.get('as_of')}: score {data['score']:.0f}/100 - {data.get('label')} "
             f"(confidence {float(data.get('confidence') or 0):.2f}; data: {data.get('source') or '?'})"]
    for f in data.get("factors") or []:
        pts = f.get("contribution")
        lines.append(f"  {f.get('name')}: {'n/a' if pts is None else f'{pts:.1f} points'} - {f.get('explanation', '')}")
    sus = {k: v for k, v in (data.get("sustainability") or {}).items() if v is not None and k != "note"}
    if sus:
        lines.append("  sustainability (beside the score): " + ", ".join(
            f"{k}={v:,.0f}" if isinstance(v, float) and abs(v) >= 1000 else
            f"{k}={v:,.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in sus.items()))
    return "\n".join(lines)


class ConsoleChat:
    """One chat session over an engine; `handle(line)` returns False when the user quits."""

    def __init__(self, engine: Any, out: TextIO = sys.stdout, err: TextIO = sys.stderr,
                 interactive: bool = False, actor: str | None = None) -> None:
        self.engine, self.out, self.err = engine, out, err
        self.interactive = interactive
        self.actor = actor or console_actor()
        self.protocol: str | None = None

    def say(self, text: str) -> None:
        print(text.rstrip() + "\n", file=self.out, flush=True)

    def run(self, stdin: TextIO) -> int:
        if self.interactive:
            print("Compute Desk chat. Ask a question, or /help. /quit leaves.", file=self.out, flush=True)
        while True:
            if self.interactive:
                print("> ", end="", file=self.out, flush=True)
            line = stdin.readline()
            if not line:  # end of input
                if self.interactive:
                    print(file=self.out)
                return 0
            if not self.handle(line):
                return 0

    def handle(self, line: str) -> bool:
        line = line.strip()
        if not line or line.startswith("#"):
            return True
        try:
            if line.startswith("/"):
                return self.command(line)
            answer = self.engine.ask(line, protocol=self.protocol, asker=self.actor)
            self.say(format_answer(answer))
        except ComputeDeskError as exc:
            print(f"error: {exc}", file=self.err, flush=True)
        except Exception:  # noqa: BLE001 - the chat goes on; the trace goes to the log
            log.exception("console chat: %r failed", line)
            print("error: something went wrong (details in the log with -v)", file=self.err, flush=True)
        return True

    def command(self, line: str) -> bool:
        try:
            parts = shlex.split(line)
        except ValueError as exc:
            raise features.NotAvailableError(f"cannot read that command: {exc}") from None
        name, args = parts[0].lower(), parts[1:]
        if name in {"/quit", "/exit", "/q"}:
            return False
        if name == "/help":
            self.say(HELP)
        elif name == "/protocol":
            self.protocol = None if not args or args[0] in {"off", "none"} else self.engine.registry.get(args[0]).id
            self.say(f"questions now look at: {self.protocol or 'all protocols'}")
        elif name == "/compare":
            self._need(args, "/compare A [B] [C]")
            from knowledge.compare import to_text

            data, chart = features.compare(self.engine, args)
            self.say(to_text(data, separator="\n") + (f"\nchart: {chart}" if chart else ""))
        elif name == "/metrics":
            self._need(args, "/metrics PROTOCOL")
            values = features.current_metrics(self.engine, args[0])
            self.say("\n".join(format_metric(m) for m in values) or "no figures available")
        elif name == "/score":
            self._need(args, "/score PROTOCOL")
            data, chart = features.score(self.engine, args[0])
            self.say(format_score(data) + (f"\nchart: {chart}" if chart else ""))
        elif name == "/kb":
            self.kb(args)
        else:
            print(f"error: unknown command {name}; try /help", file=self.err, flush=True)
        return True

    @staticmethod
    def _need(args: list[str], usage: str) -> None:
        if not args:
            raise features.NotAvailableError(f"usage: {usage}")

    def _option(self, args: list[str], flag: str) -> str | None:
        if flag in args:
            i = args.index(flag)
            if i + 1 >= len(args):
                raise features.NotAvailableError(f"{flag} needs a value")
            value = args[i + 1]
            del args[i:i + 2]
            return value
        return None

    def kb(self, args: list[str]) -> None:
        """The /kb console commands; changes are made (and audited) as the console operator."""
        sub = args[0].lower() if args else "list"
        rest = args[1:]
        engine = self.engine
        if sub == "list":
            docs = engine.list_documents(rest[0] if rest else None)
            self.say("\n".join(f"{d['key']}  {d['protocol'] or '-'}  {d['title']}  v{d['version']}  "
                               f"{d['chunk_count']} chunks" for d in docs) or "no documents")
        elif sub == "gaps":
            rows = engine.gaps(30)
            self.say("\n".join(f"x{r['count']}  {r['question']}" for r in rows) or "no gaps logged")
        elif sub == "history":
            rows = engine.history(rest[0] if rest else None, 30)
            self.say("\n".join(f"{r['at']}  {r['actor']}  {r['action']}  {r['document_key']}" for r in rows)
                     or "no history")
        elif sub == "add":
            protocol, title = self._option(rest, "--protocol"), self._option(rest, "--title")
            self._need(rest, "/kb add PATH_OR_URL [--protocol P] [--title T]")
            report = engine.ingest(rest, self.actor, protocol=protocol, title=title)
            lines = [report.summary()] + [f"failed: {i.source}: {i.reason}" for i in report.failed]
            self.say("\n".join(lines))
        elif sub == "remove":
            self._need(rest, "/kb remove KEY")
            engine.remove(rest[0], self.actor)
            self.say(f"removed {rest[0]}")
        elif sub == "restore":
            version = self._option(rest, "--version")
            self._need(rest, "/kb restore KEY [--version N]")
            said = engine.restore(rest[0], self.actor, int(version) if version else None)
            self.say(str(said or f"restored {rest[0]}"))
        else:
            print(f"error: unknown /kb command {sub!r}; try /help", file=self.err, flush=True)


def run_chat(engine: Any, stdin: TextIO = sys.stdin, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Chat until /quit or end of input; a prompt only when stdin is a terminal."""
    interactive = bool(getattr(stdin, "isatty", lambda: False)())
    return ConsoleChat(engine, out=out, err=err, interactive=interactive).run(stdin)
