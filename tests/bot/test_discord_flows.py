"""End to end: mentions, threads, DMs, cooldowns, errors, /config, optional features, guild sync."""

from __future__ import annotations

import asyncio
import logging

from tests.bot.conftest import run, running_bot
from tests.bot.test_discord_e2e import ADMINISTRATOR, opt


def _spy_on_ask(engine):
    calls = []
    real = engine.ask

    def spy(question, protocol=None, **kwargs):
        calls.append((question, protocol))
        return real(question, protocol=protocol, **kwargs)

    engine.ask = spy
    return calls


def test_mention_answers_opens_a_thread_and_follow_ups_keep_its_protocol(engine):
    calls = _spy_on_ask(engine)

    async def scenario():
        async with running_bot(engine) as r:
            f = r.fake
            await f.user_message("what is the take rate on akash usdc leases?", mention_bot=True)
            await f.wait_for(lambda: f.threads, what="a thread on the answer")
            [reply] = f.replies_in(f.channel_id)
            assert "20 percent" in reply["embeds"][0]["description"]
            assert reply["message_reference"]  # a reply to the question
            [thread_id] = f.threads
            assert f.threads[thread_id]["owner_id"] == f.app_id
            # a follow-up in the thread, no mention and no protocol named: keeps 'akash'
            await f.user_message("and what do providers do?", channel_id=thread_id)
            await f.wait_for(lambda: f.replies_in(thread_id), what="the follow-up answer")
            assert calls[-1] == ("and what do providers do?", "akash")
            # a follow-up that names another protocol is not forced onto the thread's
            await f.user_message("how does render pay node operators?", channel_id=thread_id)
            await f.wait_for(lambda: len(f.replies_in(thread_id)) == 2, what="the second follow-up")
            assert calls[-1] == ("how does render pay node operators?", None)
            # plain chatter in the channel (no mention) is ignored
            await f.user_message("good morning everyone")
            await asyncio.sleep(0.5)
            assert len(calls) == 3 and len(f.replies_in(f.channel_id)) == 1
            assert not f.violations

    run(scenario)


def test_dm_is_a_question(engine):
    async def scenario():
        async with running_bot(engine) as r:
            msg = await r.fake.user_message("how do akash providers bid on deployments?", dm=True)
            channel = msg["channel_id"]
            await r.fake.wait_for(lambda: r.fake.replies_in(channel), what="the DM answer")
            assert "reverse auction" in r.fake.replies_in(channel)[0]["embeds"][0]["description"]
            assert not r.fake.threads  # no thread in a DM

    run(scenario)


def test_cooldown_says_when_to_try_again(engine):
    async def scenario():
        async with running_bot(engine, cooldown_s=30) as r:
            user = r.fake.user(name="eager")
            first = await r.fake.slash("ask", [opt("question", "What is the Akash take rate?")], user=user)
            await r.fake.wait_for(lambda: first.answered, what="first answer")
            second = await r.fake.slash("ask", [opt("question", "And on AKT leases?")], user=user)
            await r.fake.wait_for(lambda: second.answered, what="cooldown message")
            assert second.ephemeral()
            assert "try again in" in second.text() and " s" in second.text()
            other = await r.fake.slash("ask", [opt("question", "What is the Akash take rate?")])
            await r.fake.wait_for(lambda: other.answered, what="another user's answer")
            assert other.embeds()  # cooldowns are per user

    run(scenario)


def test_unexpected_error_is_a_short_ephemeral_message_and_a_logged_trace(engine, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("internal detail token=abc123")

    engine.ask = broken

    async def scenario():
        async with running_bot(engine) as r:
            rec = await r.fake.slash("ask", [opt("question", "What is the Akash take rate?")])
            await r.fake.wait_for(lambda: rec.answered, what="the error message")
            text = rec.text()
            assert "went wrong" in text and "abc123" not in text and "Traceback" not in text

    with caplog.at_level(logging.INFO):
        run(scenario)
    traced = [rec for rec in caplog.records if rec.exc_info and "RuntimeError" in repr(rec.exc_info[1])]
    assert traced, "the failure must be logged with its trace"


def test_bad_protocol_gets_the_engines_message(engine):
    async def scenario():
        async with running_bot(engine) as r:
            rec = await r.fake.slash("ask", [opt("question", "What is the take rate?"), opt("protocol", "dogecoin")])
            await r.fake.wait_for(lambda: rec.answered, what="the message")
            assert "unknown protocol" in rec.text()

    run(scenario)


def test_config_is_for_administrators_only_and_is_stored(engine):
    async def scenario():
        async with running_bot(engine) as r:
            f = r.fake
            refused = await f.slash("config", [opt("cooldown_seconds", 12, kind=4)], permissions=1 << 5)
            await f.wait_for(lambda: refused.answered, what="refusal")
            assert "administrators" in refused.text()
            assert engine.store.get_setting(f.guild_id, "cooldown_s", None) == 0  # unchanged
            channel = f.text_channel(f.other_channel_id, "random")
            ok = await f.slash("config", [opt("cooldown_seconds", 12, kind=4),
                                          {"name": "allow_channel", "type": 7, "value": f.other_channel_id}],
                               permissions=ADMINISTRATOR, resolved={"channels": {f.other_channel_id: {
                                   **channel, "permissions": str((1 << 40) - 1)}}})
            await f.wait_for(lambda: ok.answered, what="/config")
            assert "Per-user cooldown: 12 s" in ok.text()
            assert engine.store.get_setting(f.guild_id, "cooldown_s") == 12
            assert engine.store.get_setting(f.guild_id, "allowed_channels") == [int(f.other_channel_id)]
            # now /ask in #general is refused with a pointer to the allowed channel
            rec = await f.slash("ask", [opt("question", "What is the Akash take rate?")])
            await f.wait_for(lambda: rec.answered, what="channel refusal")
            assert f"<#{f.other_channel_id}>" in rec.text()
            assert any(h["action"] == "setting" for h in engine.history())

    run(scenario)


def test_about_and_help(engine):
    async def scenario():
        async with running_bot(engine) as r:
            about = await r.fake.slash("about")
            hlp = await r.fake.slash("help")
            await r.fake.wait_for(lambda: about.answered and hlp.answered, what="about and help")
            fields = {f["name"]: f["value"] for f in about.embeds()[0]["fields"]}
            assert fields["Documents"] == "1" and fields["Version"]
            assert "/kb add" in hlp.text() and "/ask" in hlp.text()

    run(scenario)


def test_guild_sync_when_a_guild_id_is_set(engine):
    async def scenario():
        async with running_bot(engine, guild_sync=True) as r:
            puts = [q.path for q in r.fake.requests if q.method == "PUT"]
            assert puts == [f"/applications/{r.fake.app_id}/guilds/{r.fake.guild_id}/commands"]
            rec = await r.fake.slash("ask", [opt("question", "What is the take rate on Akash USDC leases?")])
            await r.fake.wait_for(lambda: rec.answered, what="an answer to a guild command")
            assert rec.embeds()

    run(scenario)
