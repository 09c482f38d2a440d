"""`compute-desk metrics` (table with as of, source, stale marking; never a traceback without network) and
`compute-desk protocol add|list|remove` (stored, audited, seen by load_registry)."""

from __future__ import annotations

import json

import pytest

from bot.cli import main
from knowledge.protocols import load_registry
from knowledge.store import Store
from tests.metrics_server import metrics_server

FAST = ["--timeout", "0.5", "--retries", "0"]


@pytest.fixture
def db(tmp_path):
    return str(tmp_path / "cli.db")


def test_metrics_table_then_stale_when_the_sources_go_down(db, monkeypatch, capsys):
    with metrics_server() as srv:
        monkeypatch.setenv("COMPUTE_DESK_METRICS_BASE_URLS", srv.base_urls())
        assert main(["--db", db, "metrics", "akash", *FAST]) == 0
        out = capsys.readouterr().out
        assert "as of" in out and "source" in out.splitlines()[0]
        gpus = next(line for line in out.splitlines() if "GPUs leased" in line)
        assert "412 GPUs" in gpus and "Akash Console API" in gpus and "fresh" in gpus
        assert "$1.21" in out and "CoinGecko" in out and "STALE" not in out
        srv.down("*", "500")
        monkeypatch.setenv("COMPUTE_DESK_METRICS_TTL", "0")
        assert main(["--db", db, "metrics", "akash", "--refresh", *FAST]) == 0
        captured = capsys.readouterr()
    price = next(line for line in captured.out.splitlines() if line.startswith("akash     price "))
    assert "$1.21" in price and "STALE" in price
    assert "Traceback" not in captured.err + captured.out


def test_metrics_without_any_source_prints_unavailable_lines(db, monkeypatch, capsys):
    monkeypatch.setenv("COMPUTE_DESK_METRICS_BASE_URLS",
                       "coingecko=http://127.0.0.1:9,akash_console=http://127.0.0.1:9,defillama=http://127.0.0.1:9")
    assert main(["--db", db, "metrics", *FAST]) == 0
    captured = capsys.readouterr()
    assert "unavailable" in captured.out and "render" in captured.out and "bittensor" in captured.out
    assert "not configured" in captured.out  # Taostats without a key
    assert "Traceback" not in captured.err


def test_metrics_json_lines(db, monkeypatch, capsys):
    with metrics_server() as srv:
        monkeypatch.setenv("COMPUTE_DESK_METRICS_BASE_URLS", srv.base_urls())
        assert main(["--db", db, "metrics", "TAO", "--json", *FAST]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    price = next(r for r in rows if r["name"] == "price")
    assert price["protocol"] == "bittensor" and price["value"] == 331.7 and price["unit"] == "USD"
    assert price["source"] == "CoinGecko" and price["as_of"] and price["stale"] is False


def test_metrics_offline_makes_no_request(db, monkeypatch, capsys):
    with metrics_server() as srv:
        monkeypatch.setenv("COMPUTE_DESK_METRICS_BASE_URLS", srv.base_urls())
        assert main(["--db", db, "metrics", "render", "--offline"]) == 0
        assert srv.total() == 0
    assert "unavailable" in capsys.readouterr().out


def test_protocol_add_is_seen_by_the_registry_and_audited(db, capsys):
    assert main(["--db", db, "protocol", "add", "--id", "io-net", "--name", "io.net", "--ticker", "IO",
                 "--alias", "ionet", "--coingecko-id", "io-net", "--actor", "mod:42"]) == 0
    store = Store(db)
    registry = load_registry(store)
    proto = registry.get("ionet")
    assert proto.id == "io-net" and proto.tickers == ("IO",) and proto.coingecko_id == "io-net"
    assert registry.detect("what is the io.net market cap?") == ["io-net"]
    audit = store.query("SELECT actor, action, document_key FROM audit WHERE action='protocol-add'")
    assert audit == [{"actor": "mod:42", "action": "protocol-add", "document_key": "io-net"}]
    assert main(["--db", db, "protocol", "list"]) == 0
    listing = capsys.readouterr().out
    assert "io-net" in listing and "database" in listing and "render" in listing


def test_protocol_add_refuses_duplicates_and_clashing_names(db, capsys):
    assert main(["--db", db, "protocol", "add", "--id", "io-net", "--name", "io.net"]) == 0
    assert main(["--db", db, "protocol", "add", "--id", "io-net", "--name", "io.net"]) == 1
    assert main(["--db", db, "protocol", "add", "--id", "fake", "--name", "Fake", "--ticker", "TAO"]) == 1
    assert main(["--db", db, "protocol", "add", "--id", "akash", "--name", "Mine"]) == 1
    assert main(["--db", db, "protocol", "add", "--id", "Bad Id!", "--name", "x"]) == 1
    err = capsys.readouterr().err
    assert "already added" in err and "already names bittensor" in err and "ships with" in err
    assert "Traceback" not in err


def test_protocol_remove_only_database_additions(db, capsys):
    assert main(["--db", db, "protocol", "add", "--id", "io-net", "--name", "io.net"]) == 0
    assert main(["--db", db, "protocol", "remove", "render"]) == 1
    assert main(["--db", db, "protocol", "remove", "io-net", "--actor", "mod:1"]) == 0
    assert "io-net" not in load_registry(Store(db)).ids()
    assert main(["--db", db, "protocol", "remove", "io-net"]) == 1
    actions = [r["action"] for r in Store(db).query("SELECT action FROM audit ORDER BY id")]
    assert actions == ["protocol-add", "protocol-remove"]
