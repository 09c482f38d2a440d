"""`compute-desk bot`: one clear line for a missing, malformed or rejected token, never the token itself."""

from __future__ import annotations

import asyncio
import os
import threading

import discord
import pytest
import yarl
from discord.gateway import DiscordWebSocket

from bot.cli import main
from bot.cli.run_bot import parse_shards
from knowledge.errors import BadInputError
from tests.bot.fake_discord import FakeDiscord


def test_missing_token_is_one_line(capsys):
    assert main(["bot"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "DISCORD_TOKEN is not set" in err and ".env" in err


def test_token_from_dotenv_is_used_and_malformed_one_is_refused(tmp_path, capsys):
    (tmp_path / ".env").write_text("DISCORD_TOKEN='Bot secret-value-123'\n")  # cwd is tmp_path (conftest)
    try:
        assert main(["bot"]) == 2
    finally:
        os.environ.pop("DISCORD_TOKEN", None)  # load_dotenv put it into this process's environment
    err = capsys.readouterr().err
    assert "does not look like a bot token" in err and "secret-value-123" not in err


@pytest.fixture
def fake_in_thread():
    loop = asyncio.new_event_loop()
    fake = FakeDiscord()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(fake.start(), loop).result(10)
    old = discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = fake.api_base
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
    yield fake
    discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = old
    asyncio.run_coroutine_threadsafe(fake.stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)


def test_rejected_token_is_one_line_without_the_token(fake_in_thread, monkeypatch, capsys, caplog, tmp_path):
    monkeypatch.setenv("DISCORD_TOKEN", "wrong-token-XYZ987")
    assert main(["--db", str(tmp_path / "b.db"), "bot"]) == 2
    captured = capsys.readouterr()
    assert "Discord rejected DISCORD_TOKEN" in captured.err and captured.err.count("\n") == 1
    everything = captured.out + captured.err + caplog.text
    assert "wrong-token-XYZ987" not in everything
    assert any(r.path == "/users/@me" and r.status == 401 for r in fake_in_thread.requests)


def test_parse_shards():
    assert parse_shards(None, 0) == 0 and parse_shards("auto") == -1 and parse_shards("4") == 4
    with pytest.raises(BadInputError):
        parse_shards("0")


def test_sharded_bot_connects_through_gateway_bot(engine):
    import dataclasses

    from bot.discord_bot import create_bot
    from tests.bot.conftest import keep_alive_threads_ended, run
    from tests.bot.fake_discord import TOKEN

    async def scenario():
        fake = FakeDiscord()
        await fake.start()
        old = discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
        discord.http.Route.BASE = fake.api_base
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
        bot = create_bot(engine, dataclasses.replace(engine.settings, discord_shards=-1))
        assert isinstance(bot, discord.AutoShardedClient)
        task = asyncio.create_task(bot.start(TOKEN))
        try:
            await asyncio.wait_for(bot.wait_until_ready(), 20)
            assert any(r.path == "/gateway/bot" for r in fake.requests)
            assert fake.identifies == 1
        finally:
            await bot.close()
            await asyncio.gather(task, return_exceptions=True)
            await keep_alive_threads_ended()
            await fake.stop()
            discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = old

    run(scenario)
