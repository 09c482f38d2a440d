"""End to end: the real discord.py client against the fake Discord on 127.0.0.1."""

from __future__ import annotations

import asyncio

from tests.bot.conftest import run, running_bot


def opt(name, value, kind=3):
    return {"name": name, "type": kind, "value": value}


def test_ask_is_deferred_then_answered_with_a_cited_embed(engine):
    async def scenario():
        async with running_bot(engine) as r:
            assert "global" in r.fake.commands  # commands were synced
            rec = await r.fake.slash("ask", [opt("question", "What is the take rate on Akash USDC leases?")])
            await r.fake.wait_for(lambda: rec.answered, what="the /ask answer")
            assert rec.callbacks[0]["type"] == 5  # deferred first
            assert rec.acked_at - rec.dispatched_at < 3
            [embed] = rec.embeds()
            assert "20 percent" in embed["description"] and "[1]" in embed["description"]
            fields = {f["name"]: f["value"] for f in embed["fields"]}
            assert "[1] Akash leases" in fields["Sources"]
            assert "Confidence" in fields
            buttons = [c for row in rec.followups[0]["components"] for c in row["components"]]
            ids = [b["custom_id"] for b in buttons]
            assert any(i.startswith("cd:vote:up:") for i in ids) and any(i.startswith("cd:more:") for i in ids)
            assert not r.fake.violations

    run(scenario)
