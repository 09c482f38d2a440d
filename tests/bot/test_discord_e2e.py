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


def sub(name, *options):
    return [{"name": name, "type": 1, "options": list(options)}]


MANAGE_GUILD = 1 << 5
ADMINISTRATOR = 1 << 3


def test_decline_is_polite_and_logged_as_a_gap(engine):
    async def scenario():
        async with running_bot(engine) as r:
            rec = await r.fake.slash("ask", [opt("question", "Who won the football world cup in 1998?")])
            await r.fake.wait_for(lambda: rec.answered, what="the decline")
            [embed] = rec.embeds()
            assert "logged" in (embed["description"] + embed["footer"]["text"]).lower()
            assert not rec.followups[0]["components"]  # no feedback buttons on a decline
            gaps = engine.gaps()
            assert any("world cup" in g["question"].lower() for g in gaps)
            assert not r.fake.violations

    run(scenario)


def test_non_moderator_is_refused_kb_add_on_the_server_side(engine):
    async def scenario():
        async with running_bot(engine) as r:
            before = engine.list_documents()
            user = r.fake.user(name="random")
            rec = await r.fake.slash("kb", sub("add", opt("protocol", "render"), opt("title", "Fake news"),
                                           opt("text", "Render burns all tokens every hour.")), user=user)
            await r.fake.wait_for(lambda: rec.answered, what="the refusal")
            assert rec.callbacks[0]["type"] == 4 and rec.ephemeral()
            assert "moderators" in rec.text().lower()
            assert engine.list_documents() == before
            assert not [h for h in engine.history() if user["id"] in h["actor"]]
            # the role the server has not configured as moderator role gives no rights either
            rec2 = await r.fake.slash("kb", sub("remove", opt("key", "text/akash-leases")), user=user,
                                      roles=[r.fake.moderator_role_id])
            await r.fake.wait_for(lambda: rec2.answered, what="the second refusal")
            assert "moderators" in rec2.text().lower()
            assert [d["key"] for d in engine.list_documents()] == [d["key"] for d in before]

    run(scenario)


def test_moderator_kb_add_is_audited_and_a_following_ask_cites_it(engine):
    async def scenario():
        async with running_bot(engine) as r:
            mod = r.fake.user(name="mod")
            # configure the moderator role through /config, as an administrator would
            admin = r.fake.user(name="admin")
            cfg = await r.fake.slash("config", [{"name": "moderator_role", "type": 8,
                                                 "value": r.fake.moderator_role_id}], user=admin,
                                     permissions=ADMINISTRATOR,
                                     resolved={"roles": {r.fake.moderator_role_id: r.fake.guild_payload()["roles"][1]}})
            await r.fake.wait_for(lambda: cfg.answered, what="/config")
            assert "Updated moderator role" in cfg.text()
            text = ("# Render burn mint\n\n## Epochs\n\nRender Network uses a burn and mint equilibrium. "
                    "Creators burn RENDER tokens for each frame job, and node operators receive newly minted "
                    "RENDER every epoch.\n")
            rec = await r.fake.slash("kb", sub("add", opt("protocol", "render"), opt("title", "Render BME"),
                                           opt("text", text)), user=mod, roles=[r.fake.moderator_role_id])
            await r.fake.wait_for(lambda: rec.answered, what="/kb add")
            assert rec.ephemeral() and "1 added" in rec.text()
            audit = engine.history(key="text/render-bme")
            assert audit and audit[0]["actor"] == f"discord:{mod['id']}"
            ask = await r.fake.slash("ask", [opt("question", "What do Render creators burn for each frame job?")])
            await r.fake.wait_for(lambda: ask.answered, what="the /ask after /kb add")
            [embed] = ask.embeds()
            assert "burn" in embed["description"].lower()
            sources = {f["name"]: f["value"] for f in embed["fields"]}["Sources"]
            assert "Render BME" in sources
            # and a member with Manage Server (no role) may remove it; the removal is audited too
            boss = r.fake.user(name="boss")
            rm = await r.fake.slash("kb", sub("remove", opt("key", "text/render-bme")), user=boss,
                                    permissions=MANAGE_GUILD)
            await r.fake.wait_for(lambda: rm.answered, what="/kb remove")
            assert "Removed" in rm.text()
            assert engine.history(key="text/render-bme")[0]["actor"] == f"discord:{boss['id']}"
            assert not r.fake.violations

    run(scenario)


def _attachment(fake, name, data, size=None):
    att_id = fake.snowflake()
    fake.attachments[name] = data
    meta = {"id": att_id, "filename": name, "size": len(data) if size is None else size,
            "url": f"{fake.base_url}/attachments/{name}", "proxy_url": f"{fake.base_url}/attachments/{name}",
            "content_type": "text/markdown"}
    return {"name": "file", "type": 11, "value": att_id}, {"attachments": {att_id: meta}}


def test_kb_add_attachment_accepted_and_wrong_type_or_size_refused(engine):
    async def scenario():
        async with running_bot(engine) as r:
            mod = r.fake.user(name="mod")
            doc = b"# Bittensor subnets\n\nEach Bittensor subnet has validators that score miners with Yuma consensus.\n"
            option, resolved = _attachment(r.fake, "subnets.md", doc)
            ok = await r.fake.slash("kb", sub("add", opt("protocol", "bittensor"), option), user=mod,
                                    permissions=MANAGE_GUILD, resolved=resolved)
            await r.fake.wait_for(lambda: ok.answered, what="attachment add")
            assert "1 added" in ok.text()
            assert any(d["key"] == "upload/subnets.md" for d in engine.list_documents())
            assert any(q.path == "/attachments/subnets.md" for q in r.fake.requests)

            option, resolved = _attachment(r.fake, "tool.exe", b"MZ\x90\x00")
            bad = await r.fake.slash("kb", sub("add", opt("protocol", "render"), option), user=mod,
                                     permissions=MANAGE_GUILD, resolved=resolved)
            await r.fake.wait_for(lambda: bad.answered, what="wrong type refusal")
            assert bad.ephemeral() and "tool.exe" in bad.text() and ".md" in bad.text()

            option, resolved = _attachment(r.fake, "huge.md", b"# x\n", size=9 * 1024 * 1024)
            big = await r.fake.slash("kb", sub("add", opt("protocol", "render"), option), user=mod,
                                     permissions=MANAGE_GUILD, resolved=resolved)
            await r.fake.wait_for(lambda: big.answered, what="size refusal")
            assert "limit is 8 MB" in big.text()
            assert not any(q.path == "/attachments/huge.md" for q in r.fake.requests)  # never downloaded
            assert not any(d["key"] in {"upload/tool.exe", "upload/huge.md"} for d in engine.list_documents())

    run(scenario)


def test_feedback_button_is_stored_and_more_sources_shows_passages(engine):
    async def scenario():
        async with running_bot(engine) as r:
            rec = await r.fake.slash("ask", [opt("question", "How do Akash providers bid on deployments?")])
            await r.fake.wait_for(lambda: rec.answered, what="the answer")
            message = rec.followups[0]
            ids = [c["custom_id"] for row in message["components"] for c in row["components"]]
            up = next(i for i in ids if i.startswith("cd:vote:up:"))
            answer_id = up.rsplit(":", 1)[1]
            voter = r.fake.user(name="voter")
            press = await r.fake.press(message, up, user=voter)
            await r.fake.wait_for(lambda: press.answered, what="the vote reply")
            assert press.ephemeral() and "Thanks" in press.text()
            rows = engine.store.query("SELECT answer_id, user_id, vote FROM feedback")
            assert rows == [{"answer_id": answer_id, "user_id": voter["id"], "vote": 1}]
            down = next(i for i in ids if i.startswith("cd:vote:down:"))
            press2 = await r.fake.press(message, down, user=voter)
            await r.fake.wait_for(lambda: press2.answered, what="the second vote")
            rows = engine.store.query("SELECT vote FROM feedback")
            assert rows == [{"vote": -1}]  # the later vote replaces the earlier one
            more = await r.fake.press(message, next(i for i in ids if i.startswith("cd:more:")))
            await r.fake.wait_for(lambda: more.answered, what="more sources")
            assert more.ephemeral() and "reverse auction" in more.text()

    run(scenario)


def test_fifty_concurrent_asks_are_all_acked_in_time_and_answered(engine):
    import time

    real_ask = engine.ask

    def slow_ask(*args, **kwargs):  # as long as a real model's embedding; blocks its thread like CPU work
        time.sleep(0.15)
        return real_ask(*args, **kwargs)

    engine.ask = slow_ask

    async def scenario():
        async with running_bot(engine) as r:
            started = asyncio.get_running_loop().time()
            recs = [await r.fake.slash("ask", [opt("question", f"What is the take rate on Akash leases? #{i}")],
                                       user=r.fake.user(name=f"u{i}")) for i in range(50)]
            await r.fake.wait_for(lambda: all(x.answered for x in recs), timeout=60, what="50 answers")
            assert all(x.callbacks[0]["type"] == 5 for x in recs)
            worst_ack = max(x.acked_at - x.dispatched_at for x in recs)
            assert worst_ack < 3.0, worst_ack
            assert all("[1]" in x.embeds()[0]["description"] for x in recs)
            assert not r.fake.violations
            # the heartbeat kept its rhythm (1 s interval) while the answers were computed
            beats = [b for b in r.fake.heartbeats() if b >= started - 1]
            elapsed = asyncio.get_running_loop().time() - started
            assert elapsed > 3.5  # 50 x 0.15 s on 2 workers: the burst lasted long enough to matter
            gaps = [b - a for a, b in zip(beats, beats[1:])]
            assert len(beats) >= 3 and max(gaps) < 2.0, gaps

    run(scenario, timeout=90)


def test_reconnect_after_the_gateway_drops_resumes_and_keeps_answering(engine):
    async def scenario():
        async with running_bot(engine) as r:
            assert r.fake.identifies == 1
            await r.fake.drop_connection()
            # an interaction dispatched while the bot is away is replayed on RESUME and still answered
            rec = await r.fake.slash("ask", [opt("question", "What is the take rate on Akash USDC leases?")])
            await r.fake.wait_connected(timeout=15)
            await r.fake.wait_for(lambda: r.fake.resumes == 1, what="a RESUME")
            await r.fake.wait_for(lambda: rec.answered, what="the replayed /ask")
            rec2 = await r.fake.slash("ask", [opt("question", "How do Akash providers bid on deployments?")])
            await r.fake.wait_for(lambda: rec2.answered, what="an /ask after the reconnect")
            assert r.fake.identifies == 1  # resumed, not re-identified
            assert not r.fake.violations

    run(scenario)
