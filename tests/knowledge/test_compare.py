"""compare_protocols: offline from the starter pack (cited focus/utility/risks, what is missing said),
with cached figures (value, unit, as of, source, stale), score and sustainability; stable JSON keys; the
comparison chart; the `compare` CLI command."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from bot.cli import main
from knowledge.compare import compare_protocols
from knowledge.engine import open_engine
from knowledge.errors import BadInputError
from knowledge.metrics.http import FetchPolicy
from knowledge.metrics.service import refresh_metrics
from scoring.compare_chart import render_comparison_chart
from tests.metrics_server import metrics_server

PACK = Path(__file__).resolve().parents[2] / "knowledge" / "pack"
FAST = FetchPolicy(timeout_s=0.5, retries=0)
TOP_KEYS = {"generated_at", "protocols", "missing", "note"}
COLUMN_KEYS = {"id", "name", "tickers", "focus", "token_utility", "risks", "usage", "market", "score",
               "sustainability", "key_figures", "missing"}
FIGURE_KEYS = {"name", "label", "value", "unit", "display", "as_of", "source", "url", "stale", "note"}
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def server():
    with metrics_server() as srv:
        yield srv


@pytest.fixture
def engine(tmp_path, server):
    # The metrics sources point at the local fake; compare itself must never call them.
    return open_engine(tmp_path / "cmp.db", metrics_base_urls=server.base_urls())


def _seed(engine, protocols=None):
    refresh_metrics(engine.store, engine.registry, protocols, engine.settings, policy=FAST)


def _by_id(data):
    return {c["id"]: c for c in data["protocols"]}


def _assert_cited_from_pack(cited, pack_file):
    assert cited is not None
    src = cited["source"]
    assert src["path"] == f"pack/{pack_file}" and src["title"]
    text = " ".join((PACK / pack_file).read_text(encoding="utf-8").split())
    # every quoted sentence is in the sheet as written (nothing invented), and it is short
    for sentence in cited["text"].rstrip("…").split(". "):
        assert sentence.strip(". ") in text, sentence
    assert 20 < len(cited["text"]) <= 320


def test_offline_from_the_starter_pack_says_what_is_missing(engine, server):
    data = compare_protocols(engine, ["render", "AKT", "tao"]).to_json()
    assert server.total() == 0  # no request: the cache is read as is
    assert set(data) == TOP_KEYS
    cols = _by_id(data)
    assert list(cols) == ["render", "akash", "bittensor"]
    for pid, sheet in (("render", "render.md"), ("akash", "akash.md"), ("bittensor", "bittensor.md")):
        col = cols[pid]
        assert set(col) == COLUMN_KEYS
        assert col["focus"]["registry"]
        _assert_cited_from_pack(col["focus"]["kb"], sheet)
        _assert_cited_from_pack(col["token_utility"], sheet)
        _assert_cited_from_pack(col["risks"], sheet)
        assert col["token_utility"]["source"]["section"].lower().startswith("token utility")
        assert col["risks"]["source"]["section"].lower() == "bottlenecks and risks"
        assert col["usage"] == [] and col["market"] == [] and col["score"] is None
        missing = "\n".join(col["missing"])
        assert "missing: price" in missing and "(source: CoinGecko; CoinGecko: nothing cached yet)" in missing
        assert "missing: score (no price history cached" in missing
        assert col["key_figures"]["market_cap_usd"] is None and col["key_figures"]["score"] is None
    assert "(source: Akash Console API" in "\n".join(cols["akash"]["missing"])
    assert "TAOSTATS_API_KEY" in "\n".join(cols["bittensor"]["missing"])
    # the schedule's reason for an unknown emission rate is passed on, not a guess
    assert "current supply is not cached" in cols["bittensor"]["sustainability"]["schedule_note"]
    assert any(m.startswith("Akash Network: missing: ") for m in data["missing"])
    json.dumps(data)  # JSON-ready as is


def test_cached_figures_appear_with_as_of_source_and_score(engine, server):
    _seed(engine)
    before = server.total()
    data = compare_protocols(engine, ["akash", "render", "bittensor"]).to_json()
    assert server.total() == before
    cols = _by_id(data)
    akash = cols["akash"]
    market = {r["name"]: r for r in akash["market"]}
    usage = {r["name"]: r for r in akash["usage"]}
    for row in list(market.values()) + list(usage.values()):
        assert set(row) == FIGURE_KEYS and row["as_of"].endswith("Z") and row["source"] and row["stale"] is False
    assert market["price"]["value"] == pytest.approx(1.21) and market["price"]["source"] == "CoinGecko"
    assert market["price"]["display"] == "$1.21"
    assert usage["active_gpus"]["value"] == 412 and usage["active_gpus"]["source"] == "Akash Console API"
    assert akash["score"]["label"] in {"usage-backed", "mixed", "speculative", "speculative-extreme"}
    assert 0 <= akash["score"]["score"] <= 100 and 0 < akash["score"]["confidence"] <= 1
    assert [f["name"] for f in akash["score"]["factors"]] == ["valuation_gap", "explosiveness",
                                                               "momentum_divergence", "turnover"]
    sus = akash["sustainability"]
    assert sus["emissions_to_usage"] > 0 and sus["usage_30d_source"] == "Akash Console API"
    assert {r["name"] for r in sus["emissions"]} == {"emissions_daily", "emissions_daily_usd"}
    assert akash["key_figures"]["market_cap_usd"] == market["market_cap"]["value"]
    assert akash["key_figures"]["usage_annualized_usd"] == pytest.approx(usage["compute_spend_30d"]["value"] * 365 / 30)
    assert not any("missing: price" in m for m in akash["missing"])
    # Bittensor: market figures, but no usage source without a Taostats key, so no score, and it says so
    tao = cols["bittensor"]
    assert {r["name"] for r in tao["market"]} >= {"price", "market_cap"} and tao["score"] is None
    assert any(m.startswith("missing: score (no usage data cached") for m in tao["missing"])
    assert cols["render"]["score"] is not None and cols["render"]["key_figures"]["usage_annualized_usd"] > 0


def test_old_figures_are_marked_stale(engine):
    _seed(engine, ["akash"])
    with engine.store.write() as conn:
        conn.execute("UPDATE metrics_cache SET fetched_at = fetched_at - 7200")
    engine.settings = dataclasses.replace(engine.settings, metrics_ttl_s=60)
    akash = _by_id(compare_protocols(engine, ["akash"]).to_json())["akash"]
    price = next(r for r in akash["market"] if r["name"] == "price")
    assert price["stale"] is True and "stale" in price["note"] and price["value"] == pytest.approx(1.21)


def test_bad_input(engine, tmp_path):
    with pytest.raises(BadInputError):
        compare_protocols(engine, [])
    with pytest.raises(BadInputError, match="nosuchcoin"):
        compare_protocols(engine, ["render", "nosuchcoin"])
    # duplicates (names and tickers of the same protocol) collapse
    data = compare_protocols(engine, ["render", "RNDR", "Render Network"]).to_json()
    assert [c["id"] for c in data["protocols"]] == ["render"]
    # a fourth protocol (added to the registry) is one too many
    assert main(["--db", str(tmp_path / "cmp.db"), "protocol", "add", "--id", "io-net", "--name", "io.net",
                 "--ticker", "IO", "--actor", "test"]) == 0
    fresh = open_engine(tmp_path / "cmp.db")
    with pytest.raises(BadInputError, match="at most 3"):
        compare_protocols(fresh, ["render", "akash", "bittensor", "io-net"])
    col = _by_id(compare_protocols(fresh, ["io-net"]).to_json())["io-net"]
    assert col["token_utility"] is None and col["focus"]["kb"] is None
    assert "missing: token utility (nothing in the knowledge base)" in col["missing"]
    assert "missing: usage figures (no usage source for this protocol in the registry)" in col["missing"]
    # without a matching section, retrieval over the protocol's own documents finds a cited sentence
    fresh.ingest_text("# io.net notes\n\nio.net clusters consumer GPUs for AI teams. The IO token pays for GPU "
                      "cluster rentals and rewards the suppliers.\n", "io.net notes", "test", protocol="io-net")
    col = _by_id(compare_protocols(fresh, ["io-net"]).to_json())["io-net"]
    assert "The IO token pays for GPU cluster rentals" in col["token_utility"]["text"]
    assert col["token_utility"]["source"]["title"] == "io.net notes"


def test_chart_written_with_and_without_figures(engine, tmp_path):
    empty = render_comparison_chart(compare_protocols(engine, ["render", "akash"]), tmp_path / "empty.png")
    assert empty.read_bytes().startswith(PNG) and empty.stat().st_size > 1000
    _seed(engine)
    full = render_comparison_chart(compare_protocols(engine, ["render", "akash", "bittensor"]).to_json(),
                                   tmp_path / "full.png")
    assert full.read_bytes().startswith(PNG) and full.stat().st_size > 1000
    rows = [{"name": "x", "market_cap_usd": None, "usage_annualized_usd": 5e6, "score": None, "label": None}]
    assert render_comparison_chart(rows, tmp_path / "rows.png").stat().st_size > 1000
    with pytest.raises(BadInputError):
        render_comparison_chart([], tmp_path / "none.png")


def test_cli_json_text_and_chart(tmp_path, server, monkeypatch, capsys):
    db = str(tmp_path / "cli.db")
    monkeypatch.setenv("COMPUTE_DESK_METRICS_BASE_URLS", server.base_urls())
    chart = tmp_path / "c.png"
    assert main(["--db", db, "compare", "render", "akash", "bittensor", "--json", "--chart", str(chart)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == TOP_KEYS | {"chart"} and data["chart"] == str(chart)
    assert chart.read_bytes().startswith(PNG)
    assert [c["id"] for c in data["protocols"]] == ["render", "akash", "bittensor"]
    assert server.total() == 0
    assert main(["--db", db, "compare", "akash", "tao"]) == 0  # not a TTY: plain text
    out = capsys.readouterr().out
    # the citation names the fact sheet's public source (its front matter's source_url)
    assert "Akash Network (AKT)" in out and "token utility: AKT is" in out and "https://akash.network/docs/" in out
    assert "missing: price" in out and "score: none" in out
    assert main(["--db", db, "compare", "akash", "nosuchcoin"]) == 1
    assert "error:" in capsys.readouterr().err
