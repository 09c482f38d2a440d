"""/compare, /metrics and /score in Discord (through the fake) and in the console chat: with nothing cached
they say what is missing; with cached figures they show them with as of, source and stale marking; the
score comes with label, factors, confidence and its chart; a failing part says "not available"."""

from __future__ import annotations

import dataclasses
import io

import pytest

from bot import features
from bot.chat import run_chat
from bot.discord_bot.cogs.compare import compare_embed
from tests.bot.conftest import run, running_bot
from tests.bot.fake_discord import embed_size, message_problems
from tests.bot.test_discord_e2e import opt
from tests.metrics_server import metrics_server


@pytest.fixture
def server():
    with metrics_server() as srv:
        yield srv


def _point_at(engine, server, **extra):
    engine.settings = dataclasses.replace(engine.settings, metrics_base_urls=server.base_urls(), **extra)


def _fields(rec):
    return {f["name"]: f["value"] for e in rec.embeds() for f in e.get("fields", [])}


def _chat(engine, text):
    out, err = io.StringIO(), io.StringIO()
    assert run_chat(engine, io.StringIO(text), out, err) == 0
    return out.getvalue(), err.getvalue()


def test_discord_with_nothing_cached_says_what_is_missing(engine):
    async def scenario():
        async with running_bot(engine) as r:
            f = r.fake
            recs = [await f.slash("metrics", [opt("protocol", "akash")]),
                    await f.slash("score", [opt("protocol", "akash")]),
                    await f.slash("compare", [opt("protocols", "akash, render")])]
            await f.wait_for(lambda: all(x.answered for x in recs), timeout=30, what="three replies")
            metrics, score, compare = recs
            fields = _fields(metrics)
            assert "No figures are cached for Akash Network" in metrics.text()
            assert "price; market cap; " in fields["Not available"]
            assert ": unavailable (CoinGecko: coingecko unavailable" in fields["Not available"]
            assert "GPUs leased (active): unavailable (Akash Console API" in fields["Not available"]
            assert "Score: Akash Network — no score" in score.text()
            assert "no price history cached" in _fields(score)["Missing"]
            assert "Comparison: Akash Network vs Render Network" in compare.text()
            cfields = _fields(compare)
            assert "missing: price" in cfields["Missing — Akash Network"]
            assert "missing: score (no price history cached" in cfields["Missing — Render Network"]
            # this engine has one Akash document and no starter pack: utility is said to be missing, not made up
            assert cfields["Akash Network — token utility"] == "Not in the knowledge base yet."
            assert "missing: token utility (nothing in the knowledge base)" in cfields["Missing — Akash Network"]
            assert compare.followups[0]["files"]  # the chart, drawn with "no data"
            for rec in recs:
                assert "Traceback" not in rec.text() and not rec.ephemeral()
                for m in rec.messages():
                    assert message_problems(m, bool(m.get("files"))) == []
            assert f.violations == []

    run(scenario)


def test_discord_with_cached_figures_shows_them_with_as_of_source_score_and_chart(engine, server):
    _point_at(engine, server)

    async def scenario():
        async with running_bot(engine) as r:
            f = r.fake
            metrics = await f.slash("metrics", [opt("protocol", "akash")])
            await f.wait_for(lambda: metrics.answered, timeout=30, what="/metrics")
            score = await f.slash("score", [opt("protocol", "akash")])
            compare = await f.slash("compare", [opt("protocols", "render akash bittensor")])
            await f.wait_for(lambda: score.answered and compare.answered, timeout=30, what="/score, /compare")
            gpus = _fields(metrics)["GPUs leased (active)"]
            assert "412 GPUs" in gpus and "as of 20" in gpus and "source: Akash Console API" in gpus
            assert "⚠️" not in metrics.text()
            sfields = _fields(score)
            assert score.embeds()[0]["title"].startswith("Score: Akash Network — ")
            assert "/100" in score.embeds()[0]["title"]
            assert "valuation gap" in sfields["Factors"] and "pts" in sfields["Factors"]
            assert "(" in sfields["Confidence"] and sfields["As of"]
            assert score.followups[0]["files"] == ["score.png"] or score.followups[0]["files"]
            assert score.embeds()[0]["image"]["url"] == "attachment://score.png"
            cfields = _fields(compare)
            akash = cfields["Akash Network (AKT)"]
            assert "**Market cap**: $327.60 million" in akash and "as of 20" in akash and "CoinGecko" in akash
            assert "**Score**: " in akash and "/100" in akash
            assert "TAOSTATS_API_KEY" in cfields["Missing — Bittensor"]  # Bittensor's usage needs a key
            assert compare.embeds()[0]["image"]["url"] == "attachment://compare.png"
            for e in compare.embeds():
                assert embed_size(e) <= 6000 and len(e["fields"]) <= 25
            assert f.violations == []
            # the source goes down and the cache ages: figures are served, marked stale
            server.down("*", "500")
            engine.settings = dataclasses.replace(engine.settings, metrics_ttl_s=0)
            again = await f.slash("metrics", [opt("protocol", "akash")])
            await f.wait_for(lambda: again.answered, timeout=30, what="stale /metrics")
            assert "⚠️ GPUs leased (active)" in _fields(again)
            assert "412 GPUs" in _fields(again)["⚠️ GPUs leased (active)"]
            assert "marks stale figures" in again.text()

    run(scenario)


def test_a_failing_part_says_not_available_without_a_trace(engine, monkeypatch):
    import knowledge.compare

    def broken(*args, **kwargs):
        raise RuntimeError("/secret/path exploded")

    monkeypatch.setattr(knowledge.compare, "compare_protocols", broken)

    async def scenario():
        async with running_bot(engine) as r:
            rec = await r.fake.slash("compare", [opt("protocols", "akash, render")])
            await r.fake.wait_for(lambda: rec.answered, timeout=30, what="/compare")
            assert "Comparison is not available right now" in rec.text()
            assert "secret" not in rec.text() and "Traceback" not in rec.text()

    run(scenario)


def test_chat_commands_with_nothing_cached(engine):
    out, err = _chat(engine, "/metrics akash\n/score akash\n/compare akash render\n")
    assert err == ""
    blocks = out.strip().split("\n\n")
    assert len(blocks) == 3, out
    assert "price: unavailable (CoinGecko" in blocks[0]
    assert "akash: no score (no score: no price history cached" in blocks[1]
    assert "Akash Network (AKT)" in blocks[2] and "missing: price" in blocks[2] and "chart: " in blocks[2]


def test_chat_commands_with_cached_figures(engine, server):
    _point_at(engine, server)
    out, err = _chat(engine, "/metrics akash\n/score akash\n/compare akash render bittensor\n/compare a b c d\n")
    blocks = out.strip().split("\n\n")
    assert len(blocks) == 3, out
    assert "GPUs leased (active): 412 GPUs (as of 20" in blocks[0] and "Akash Console API)" in blocks[0]
    assert "score " in blocks[1] and "/100" in blocks[1] and "confidence" in blocks[1]
    assert "valuation_gap:" in blocks[1] and "chart: " in blocks[1]
    assert "market - market cap: $327.60 million (as of 20" in blocks[2]
    assert "error:" in err  # four protocols: a one-line error, the chat goes on


def test_compare_embed_stays_within_discord_limits_with_long_texts():
    long = "A very long sentence about token utility that keeps going. " * 60
    col = {"id": "x", "name": "X" * 300, "tickers": ["X"], "focus": {"registry": "f" * 2000, "kb": None},
           "token_utility": {"text": long, "source": {"title": "T" * 500, "path": "p", "section": "S", "url": ""}},
           "risks": {"text": long, "source": {"title": "T", "path": "p", "section": "S", "url": "http://x"}},
           "usage": [], "market": [{"name": "market_cap", "label": "market cap", "value": 1.0, "unit": "USD",
                                    "display": "$1", "as_of": "2025-01-01T00:00:00Z", "source": "CoinGecko",
                                    "url": "", "stale": True, "note": "stale"}],
           "score": None, "sustainability": {"emissions": [], "summary": "s" * 3000}, "key_figures": {},
           "missing": ["missing: " + "m" * 400] * 40}
    embed = compare_embed({"protocols": [col, dict(col, id="y"), dict(col, id="z")], "note": "n" * 5000,
                           "generated_at": "2025-01-01T00:00:00Z"})
    data = embed.to_dict()
    assert message_problems({"embeds": [data]}) == []
    assert len(embed) <= 6000 and len(data["fields"]) <= 25
    assert all(len(fl["value"]) <= 1024 for fl in data["fields"])


def test_features_score_returns_the_reason_when_nothing_is_cached(engine):
    data, chart = features.score(engine, "bittensor", refresh=False)
    assert data["score"] is None and chart is None
    assert data["missing"] == ["missing: score (no price history cached (CoinGecko market_chart))"]
