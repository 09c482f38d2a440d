"""`compute-desk protocol add|list|remove`: the protocol registry is data. Additions live in the database
(audited) and are read by retrieval, metrics and scoring; shipped protocols cannot be removed."""

from __future__ import annotations

import argparse
import getpass
import json

from bot.cli.common import print_json
from knowledge.errors import BadInputError, NotFoundError

USAGE_SOURCES = ("akash_console", "defillama_fees", "taostats")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("protocol", help="list, add and remove protocols (the registry)",
                       description="Example: compute-desk protocol add --id io-net --name io.net --ticker IO "
                                   "--coingecko-id io-net")
    p.add_argument("--actor", default=None, help="who is making the change (audit log); default cli:<login>")
    psub = p.add_subparsers(dest="protocol_command", metavar="PROTOCOL_COMMAND")

    a = psub.add_parser("add", help="add a protocol (moderators)",
                        description="Example: compute-desk protocol add --id io-net --name io.net --ticker IO")
    a.add_argument("--id", required=True, help="stable lower-case id, e.g. io-net")
    a.add_argument("--name", required=True, help="display name")
    a.add_argument("--ticker", action="append", default=[], help="ticker (repeatable)")
    a.add_argument("--alias", action="append", default=[], help="a word that names it in questions (repeatable)")
    a.add_argument("--coingecko-id", default="", help="CoinGecko coin id, for market data")
    a.add_argument("--defillama-slug", default="", help="DefiLlama fees/revenue slug")
    a.add_argument("--usage-source", action="append", default=[], choices=USAGE_SOURCES,
                   help="usage source (repeatable)")
    a.add_argument("--focus", default="", help="one line on what it does")
    a.add_argument("--replace", action="store_true", help="replace an earlier database addition with this id")
    a.add_argument("--actor", dest="sub_actor", default=None, help=argparse.SUPPRESS)
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=add)

    ls = psub.add_parser("list", help="every protocol: shipped and added", description="Example: compute-desk protocol list")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=list_protocols)

    r = psub.add_parser("remove", help="remove a protocol added to the database (shipped ones stay)",
                        description="Example: compute-desk protocol remove io-net")
    r.add_argument("id")
    r.add_argument("--actor", dest="sub_actor", default=None, help=argparse.SUPPRESS)
    r.set_defaults(func=remove)
    p.set_defaults(func=lambda args: p.print_help() or 2)


def _actor(args: argparse.Namespace) -> str:
    chosen = getattr(args, "sub_actor", None) or getattr(args, "actor", None)
    if chosen:
        return chosen
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # noqa: BLE001 - no login name in some containers
        return "cli:unknown"


def _store(args: argparse.Namespace):
    from knowledge.config import default_db_path
    from knowledge.store import Store

    return Store(args.db or default_db_path())


def add(args: argparse.Namespace) -> int:
    from knowledge.protocols import Protocol, load_registry, shipped_protocols
    from knowledge.store import now_iso

    proto = Protocol.from_dict({
        "id": args.id, "name": args.name, "tickers": args.ticker, "aliases": args.alias,
        "coingecko_id": args.coingecko_id.strip(), "defillama_slug": args.defillama_slug.strip(),
        "usage_sources": sorted(set(args.usage_source)), "focus": args.focus,
    })
    if proto.id in {p.id for p in shipped_protocols()}:
        raise BadInputError(f"{proto.id} ships with Compute Desk and cannot be replaced")
    store = _store(args)
    registry = load_registry(store)
    taken = {n: p.id for p in registry if p.id != proto.id for n in p.names()}
    clashes = sorted(n for n in proto.names() if n in taken)
    if clashes:
        raise BadInputError(f"{', '.join(clashes)} already name{'s' if len(clashes) == 1 else ''} "
                            f"{taken[clashes[0]]}; choose other tickers or aliases")
    actor = _actor(args)
    with store.write() as conn:
        exists = conn.execute("SELECT 1 FROM protocols WHERE id=?", (proto.id,)).fetchone()
        if exists and not args.replace:
            raise BadInputError(f"{proto.id} was already added; use --replace to change it")
        conn.execute("INSERT INTO protocols(id, data, added_by, added_at) VALUES (?,?,?,?) "
                     "ON CONFLICT(id) DO UPDATE SET data=excluded.data, added_by=excluded.added_by, "
                     "added_at=excluded.added_at", (proto.id, json.dumps(proto.to_dict()), actor, now_iso()))
        store.audit(conn, actor, "protocol-add", proto.id, data=proto.to_dict(), replaced=bool(exists))
        store.bump_generation(conn)  # engines reload the registry on the next question
    if args.json:
        print_json(proto.to_dict())
    else:
        print(f"added {proto.id} ({proto.name}); names: {', '.join(proto.names())}")
    return 0


def list_protocols(args: argparse.Namespace) -> int:
    from knowledge.protocols import load_registry, shipped_protocols

    store = _store(args)
    shipped = {p.id for p in shipped_protocols()}
    added = {r["id"]: r for r in store.query("SELECT id, added_by, added_at FROM protocols")}
    rows = []
    for p in load_registry(store):
        row = {"id": p.id, "name": p.name, "tickers": list(p.tickers), "coingecko_id": p.coingecko_id,
               "defillama_slug": p.defillama_slug, "usage_sources": list(p.usage_sources),
               "origin": "database" if p.id in added else "shipped" if p.id in shipped else "?",
               "added_by": added.get(p.id, {}).get("added_by", "")}
        rows.append(row)
    if args.json:
        for row in rows:
            print_json(row)
        return 0
    for row in rows:
        extra = f"  added by {row['added_by']}" if row["added_by"] else ""
        print(f"{row['id']:<14} {row['name']:<22} {','.join(row['tickers']):<12} {row['origin']:<9} "
              f"cg={row['coingecko_id'] or '-'} llama={row['defillama_slug'] or '-'}{extra}")
    print(f"{len(rows)} protocols")
    return 0


def remove(args: argparse.Namespace) -> int:
    from knowledge.protocols import shipped_protocols

    pid = args.id.strip().lower()
    if pid in {p.id for p in shipped_protocols()}:
        raise BadInputError(f"{pid} ships with Compute Desk and cannot be removed")
    store = _store(args)
    actor = _actor(args)
    with store.write() as conn:
        row = conn.execute("SELECT data FROM protocols WHERE id=?", (pid,)).fetchone()
        if row is None:
            raise NotFoundError(f"no added protocol with id {pid!r}")
        conn.execute("DELETE FROM protocols WHERE id=?", (pid,))
        store.audit(conn, actor, "protocol-remove", pid, data=json.loads(row[0]))
        store.bump_generation(conn)
    print(f"removed {pid}")
    return 0
