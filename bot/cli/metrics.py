"""`compute-desk metrics [PROTOCOL...] [--refresh] [--json]`: live figures with "as of" and source.

Entries younger than the TTL are served from the cache (no request); older ones are refreshed; a source that
is down leaves its last good figures marked STALE, or an 'unavailable' line. Never a traceback; exit 0.
"""

from __future__ import annotations

import argparse
import logging

from bot.cli.common import print_json

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("metrics", help="live market and usage figures per protocol (as of, source, stale marked)",
                       description="Example: compute-desk metrics akash render --refresh")
    p.add_argument("protocols", nargs="*", metavar="PROTOCOL", help="ids, names or tickers (default: all)")
    p.add_argument("--refresh", action="store_true", help="fetch now even when the cache is fresh")
    p.add_argument("--offline", action="store_true", help="no requests: show what the cache holds")
    p.add_argument("--json", action="store_true", help="one JSON object per figure")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds per request attempt (default 10)")
    p.add_argument("--retries", type=int, default=2, help="retries per request after the first (default 2)")
    p.set_defaults(func=run)


def _value_text(value) -> str:
    if not value.available:
        return str(value.value)
    from knowledge.metrics.questions import format_value

    return format_value(value)


def run(args: argparse.Namespace) -> int:
    from knowledge.config import default_db_path, load_settings
    from knowledge.metrics.http import FetchPolicy
    from knowledge.metrics.service import current_metrics, refresh_metrics
    from knowledge.protocols import load_registry
    from knowledge.store import Store

    store = Store(args.db or default_db_path())
    settings = load_settings()
    registry = load_registry(store)
    ids = [registry.get(p).id for p in args.protocols] if args.protocols else registry.ids()
    policy = FetchPolicy(timeout_s=max(0.1, args.timeout), retries=max(0, min(args.retries, 5)),
                         backoff_s=min(0.5, args.timeout / 4))
    if not args.offline:
        try:
            refresh_metrics(store, registry, ids, settings, force=args.refresh, policy=policy)
        except Exception:  # noqa: BLE001 - the cache is still worth showing
            log.exception("metrics refresh failed")
    rows = []
    for pid in ids:
        for value in current_metrics(store, registry, pid, settings, refresh=False):
            rows.append(value)
    if args.json:
        for value in rows:
            print_json(value.to_json())
        return 0
    headers = ["protocol", "metric", "value", "as of", "source", "status"]
    table = [[v.protocol, v.label or v.name, _value_text(v), v.as_of or "-",
              v.source, ("STALE " + _age(v) if v.stale else v.status)] for v in rows]
    widths = [max(len(h), *(len(r[i]) for r in table)) if table else len(h) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip())
    for row in table:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    notes = sorted({f"{v.source}: {v.note}" for v in rows if not v.available and v.note})
    for note in notes:
        print(f"note: {note}")
    if any(v.stale for v in rows):
        print("STALE: served from the cache because the source did not answer (or the cache is older than the TTL)")
    return 0


def _age(value) -> str:
    from knowledge.metrics.values import format_age

    return f"({format_age(value.age_s or 0)} old)"
