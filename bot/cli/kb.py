"""`compute-desk kb`: moderate the knowledge base (ingest, list, show, remove, restore, history, gaps,
export, import). On the command line the operator of the machine is the moderator; every change is
audited under `--actor` (default `cli:<login name>`).
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys

from bot.cli.common import engine_from, is_tty, print_json
from knowledge.results import IngestReport


def register(sub: argparse._SubParsersAction) -> None:
    kb = sub.add_parser("kb", help="add, list, remove and restore knowledge; audit history; gaps; backups",
                        description="Moderate the knowledge base. Example: compute-desk kb ingest ../shared/corpus")
    kb.add_argument("--actor", default=None, help="who is making the change (audit log); default cli:<login>")
    ksub = kb.add_subparsers(dest="kb_command", metavar="KB_COMMAND")

    p = ksub.add_parser("ingest", help="add files, folders (with MANIFEST.tsv) or http(s) URLs",
                        description="Example: compute-desk kb ingest docs/ https://example.org/page.html")
    p.add_argument("sources", nargs="+")
    p.add_argument("--protocol", help="protocol of these documents when the files do not say")
    p.add_argument("--title", help="title (for a single document)")
    p.add_argument("--quiet", action="store_true", help="no progress bar, only failures and the summary")
    p.add_argument("--json", action="store_true", help="one JSON object per source")
    p.set_defaults(func=ingest)

    p = ksub.add_parser("list", help="list documents", description="Example: compute-desk kb list --protocol akash")
    p.add_argument("--protocol")
    p.add_argument("--all", action="store_true", help="include removed documents")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=list_docs)

    p = ksub.add_parser("show", help="one document: metadata, versions, sections",
                        description="Example: compute-desk kb show pack/akash.md")
    p.add_argument("key")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=show)

    p = ksub.add_parser("remove", help="remove a document (soft; restorable)",
                        description="Example: compute-desk kb remove pack/akash.md")
    p.add_argument("key")
    p.set_defaults(func=remove)

    p = ksub.add_parser("restore", help="restore a removed document, or the previous version of a replaced one",
                        description="Example: compute-desk kb restore pack/akash.md --version 1")
    p.add_argument("key")
    p.add_argument("--version", type=int, help="bring back this version's text")
    p.set_defaults(func=restore)

    p = ksub.add_parser("history", help="the audit log (who changed what, when)",
                        description="Example: compute-desk kb history --key pack/akash.md")
    p.add_argument("--key")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=history)

    p = ksub.add_parser("gaps", help="questions the bot declined, most asked first",
                        description="Example: compute-desk kb gaps --limit 20")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=gaps)

    p = ksub.add_parser("export", help="write a portable backup file (documents, versions, audit, gaps)",
                        description="Example: compute-desk kb export backup.cdk.gz")
    p.add_argument("file")
    p.set_defaults(func=export)

    p = ksub.add_parser("import", help="merge a backup file into this knowledge base",
                        description="Example: compute-desk kb import backup.cdk.gz")
    p.add_argument("file")
    p.set_defaults(func=import_)
    kb.set_defaults(func=lambda args: kb.print_help() or 2)


def actor(args: argparse.Namespace) -> str:
    if args.actor:
        return args.actor
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:
        return "cli:unknown"


def ingest(args: argparse.Namespace) -> int:
    engine = engine_from(args)
    show_bar = not args.quiet and not args.json and sys.stderr.isatty()
    if show_bar:
        report = _ingest_with_progress(engine, args)
    else:
        report = engine.ingest(args.sources, actor(args), protocol=args.protocol, title=args.title)
    return _print_report(report, args)


def _ingest_with_progress(engine, args) -> IngestReport:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  transient=False) as bar:
        tasks: dict[str, int] = {}

        def progress(what: str, done: int, total: int) -> None:
            if what not in tasks:
                tasks[what] = bar.add_task(what, total=total)
            bar.update(tasks[what], completed=done, total=total)

        return engine.ingest(args.sources, actor(args), protocol=args.protocol, title=args.title, progress=progress)


def _print_report(report: IngestReport, args: argparse.Namespace) -> int:
    for item in report.items:
        if args.json:
            print_json(item.__dict__)
        elif item.status == "failed":
            print(f"failed: {item.source}: {item.reason}", file=sys.stderr)
        elif item.reason and not args.quiet:
            print(f"note: {item.source}: {item.reason}", file=sys.stderr)
    if not args.json:
        print(report.summary())
    return 1 if report.failed and not report.count("added") + report.count("updated") + report.count("unchanged") else 0


def list_docs(args: argparse.Namespace) -> int:
    rows = engine_from(args).list_documents(protocol=args.protocol, include_removed=args.all)
    if args.json:
        for row in rows:
            print_json(row)
        return 0
    _table(rows, ["protocol", "key", "title", "chunk_count", "status", "added_by", "added_at"])
    print(f"{len(rows)} documents")
    return 0


def show(args: argparse.Namespace) -> int:
    doc = engine_from(args).show_document(args.key)
    if args.json:
        print_json(doc)
        return 0
    for field in ("key", "title", "protocol", "status", "version", "chunk_count", "source_url", "date", "origin",
                  "added_by", "added_at", "updated_by", "updated_at"):
        print(f"{field:>12}: {doc.get(field, '')}")
    print("    versions:")
    for v in doc["versions"]:
        print(f"      v{v['version']} {v['created_at']} by {v['created_by']} ({v['chars']} chars)")
    print("    sections: " + "; ".join(s for s in doc["sections"][:30] if s))
    return 0


def remove(args: argparse.Namespace) -> int:
    engine_from(args).remove(args.key, actor(args))
    print(f"removed {args.key} (restore with: compute-desk kb restore {args.key})")
    return 0


def restore(args: argparse.Namespace) -> int:
    print(engine_from(args).restore(args.key, actor(args), version=args.version))
    return 0


def history(args: argparse.Namespace) -> int:
    rows = engine_from(args).history(key=args.key, limit=args.limit)
    if args.json:
        for row in rows:
            print_json(row)
        return 0
    _table(rows, ["at", "actor", "action", "document_key", "detail"])
    return 0


def gaps(args: argparse.Namespace) -> int:
    rows = engine_from(args).gaps(limit=args.limit)
    if args.json:
        for row in rows:
            row["nearest"] = json.loads(row["nearest"] or "[]")
            print_json(row)
        return 0
    _table(rows, ["count", "protocol", "question", "last_at"])
    return 0


def export(args: argparse.Namespace) -> int:
    from knowledge.backup import export_kb

    engine = engine_from(args)
    counts = export_kb(engine.store, args.file)
    print(f"exported to {args.file}: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    return 0


def import_(args: argparse.Namespace) -> int:
    from knowledge.backup import import_kb

    engine = engine_from(args)
    counts = import_kb(engine.store, args.file, actor(args), reindex=engine.reindex)
    print(f"imported {args.file}: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    return 0


def _table(rows: list[dict], columns: list[str]) -> None:
    if not rows:
        print("(none)")
        return
    if is_tty():
        from rich.console import Console
        from rich.table import Table

        table = Table(*columns)
        for row in rows:
            table.add_row(*(str(row.get(c, ""))[:80] for c in columns))
        Console().print(table)
        return
    print("\t".join(columns))
    for row in rows:
        print("\t".join(str(row.get(c, "")).replace("\t", " ")[:200] for c in columns))
