"""`compute-desk score`: usage-vs-speculation score of a protocol (cached live data) or of a CSV file."""

from __future__ import annotations

import argparse
import sys

from knowledge.errors import BadInputError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "score", help="0-100 score: is the valuation backed by usage or driven by speculation?",
        description="Examples: compute-desk score akash --chart akash.png; "
        "compute-desk score --csv prices.csv --daily --json. CSV columns: "
        "date,price,market_cap,volume,usage_usd,circulating_supply (daily rows).")
    p.add_argument("protocol", nargs="?", metavar="PROTOCOL", help="protocol id, name or ticker (cached data)")
    p.add_argument("--csv", metavar="FILE", help="score this CSV instead of cached data")
    p.add_argument("--daily", action="store_true", help="add each day's look-ahead-free score")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--chart", metavar="FILE.png", help="draw market cap vs usage with the score below")
    p.set_defaults(func=run)


def _series_for(args: argparse.Namespace):
    """The Series to score and the protocol name, or None (after a message) when no usage is cached."""
    from scoring.series import load_csv

    if args.csv:
        return load_csv(args.csv), args.protocol or "csv"
    if not args.protocol:
        raise BadInputError("give a PROTOCOL or --csv FILE (e.g. compute-desk score akash)")
    from knowledge import config
    from knowledge.protocols import load_registry
    from knowledge.store import Store

    store = Store(args.db or config.default_db_path())
    protocol_id = load_registry(store).get(args.protocol).id
    try:
        from knowledge.metrics.series import load_series
    except ImportError:
        load_series = None
    series = load_series(store, protocol_id) if load_series else None
    if series is None or not series.has_usage:
        print(f"no cached usage data for {protocol_id}; fetch it with: compute-desk metrics {protocol_id} --refresh",
              file=sys.stderr)
        return None
    return series, protocol_id


def run(args: argparse.Namespace) -> int:
    from scoring.score import score_series

    found = _series_for(args)
    if found is None:
        return 1
    series, protocol = found
    # The chart shows the daily score, so compute it when a chart is asked for; JSON shows it only on --daily.
    result = score_series(series, protocol=protocol, daily=args.daily or bool(args.chart))
    if args.chart:
        from scoring.chart import render_chart

        render_chart(series, result, args.chart)
    if not args.daily:
        result.daily = []
    if args.json:
        print(result.to_json())
    else:
        _print_summary(result)
        if args.chart:
            print(f"chart written to {args.chart}")
    return 0


def _print_summary(result) -> None:
    if result.score is None:
        print(f"{result.protocol}: no score ({result.note or 'not enough data'})")
    else:
        print(f"{result.protocol} as of {result.as_of}: score {result.score:.0f}/100 - {result.label} "
              f"(confidence {result.confidence:.2f})")
        print(f"  {'factor':<22}{'value':>10}{'points':>9}  explanation")
        for f in result.factors:
            value = "n/a" if f.value is None else f"{f.value:.2f}"
            print(f"  {f.name:<22}{value:>10}{f.contribution:>9.1f}  {f.explanation}")
    sus = {k: v for k, v in result.sustainability.items() if v is not None and k != "note"}
    if sus:
        print("sustainability (beside the score, not in it): "
              + ", ".join(f"{k}={v:,.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in sus.items()))
    print(f"  note: {result.sustainability.get('note', '')}")
    for day in result.daily:
        if day.score is not None:
            print(f"  {day.date}  {day.score:5.1f}  {day.label}  ({day.confidence:.2f})")
