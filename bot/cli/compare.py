"""`compute-desk compare`: protocols side by side from the knowledge base and the cached metrics."""

from __future__ import annotations

import argparse
from typing import Any

from bot.cli.common import engine_from, is_tty, print_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compare", help="protocols side by side: focus, token utility, figures, score, sustainability, risks",
        description="Examples: compute-desk compare render akash bittensor; compute-desk compare akt tao --json; "
        "compute-desk compare render akash --chart compare.png. Reads the knowledge base and the metrics "
        "cache only (refresh figures with: compute-desk metrics --refresh); says what is missing.")
    p.add_argument("protocols", nargs="+", metavar="PROTOCOL", help="one to three protocol ids, names or tickers")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--chart", metavar="FILE.png", help="draw market cap vs annualized usage and the scores")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from knowledge.compare import compare_protocols, to_text

    engine = engine_from(args)
    data = compare_protocols(engine, args.protocols).to_json()
    chart = None
    if args.chart:
        from scoring.compare_chart import render_comparison_chart

        chart = str(render_comparison_chart(data, args.chart))
    if args.json:
        if chart:
            data["chart"] = chart
        print_json(data)
    elif is_tty():
        _print_table(data)
    else:
        print(to_text(data))
    if chart and not args.json:
        print(f"chart written to {chart}")
    return 0


def _cell(col: dict[str, Any]) -> dict[str, str]:
    """One protocol's cells for the rich table (text from the knowledge base escaped, never read as markup)."""
    from rich.markup import escape as e

    def cited(c: dict[str, Any] | None) -> str:
        if not c:
            return "[dim]not in the knowledge base[/dim]"
        src = c["source"]
        return (f"{e(c['text'])}\n[dim]— {e(src['title'] or src['path'])}, {e(src['section'])} "
                f"({e(src['url'] or src['path'])})[/dim]")

    def figures(rows: list[dict[str, Any]]) -> str:
        lines = [f"{e(r['label'])}: {e(r['display'])}" + (" [yellow]STALE[/yellow]" if r["stale"] else "")
                 + f"\n  [dim]as of {r['as_of'] or '?'}, {e(r['source'])}[/dim]" for r in rows]
        return "\n".join(lines) or "[dim]none cached[/dim]"

    focus = col["focus"]
    s = col.get("score")
    sus = col.get("sustainability") or {}
    return {
        "focus": "\n".join(x for x in (e(focus.get("registry", "")), cited(focus["kb"]) if focus.get("kb") else "")
                           if x),
        "token utility": cited(col.get("token_utility")),
        "usage": figures(col["usage"]),
        "market": figures(col["market"]),
        "score": (f"{s['score']:.0f}/100 {s['label']}\nconfidence {s['confidence']:.2f}, as of {s['as_of']}"
                  if s and s.get("score") is not None else "[dim]no score[/dim]"),
        "sustainability": e("\n".join([f"{r['label']}: {r['display']}" for r in sus.get("emissions", [])]
                                      + [sus.get("summary", "")])),
        "main risks": cited(col.get("risks")),
        "missing": e("\n".join(col["missing"])) or "—",
    }


def _print_table(data: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    cols = data["protocols"]
    table = Table(show_lines=True, title="Comparison")
    table.add_column("")
    for col in cols:
        tick = "/".join(col["tickers"])
        table.add_column(escape(col["name"] + (f" ({tick})" if tick else "")), overflow="fold")
    cells = [_cell(c) for c in cols]
    for row in ("focus", "token utility", "usage", "market", "score", "sustainability", "main risks", "missing"):
        table.add_row(row, *[c[row] for c in cells])
    console = Console()
    console.print(table)
    console.print(escape(data.get("note", "")))
