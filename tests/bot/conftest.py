"""Fixtures for the Discord end-to-end tests: the fake Discord, the real discord.py client pointed at it,
and an engine on a temporary database with one small document to cite.

pytest-asyncio is not installed: each test runs its scenario with `asyncio.run` through `run_bot(...)`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import discord
import pytest
import yarl
from discord.gateway import DiscordWebSocket

from bot.discord_bot import create_bot
from bot.discord_bot.app import store_setting
from tests.bot.fake_discord import TOKEN, FakeDiscord

AKASH_DOC = """# Akash leases

## Pricing

Akash tenants pay providers in AKT or USDC through on-chain leases. The take rate on USDC leases is
20 percent and it goes to the community pool. The take rate on AKT leases is 4 percent.

## Providers

Providers bid on deployments in a reverse auction and the tenant picks a bid to open a lease.
"""


CLOSED_METRICS_URLS = ",".join(f"{name}=http://127.0.0.1:9"
                               for name in ("coingecko", "akash_console", "defillama", "taostats"))


@dataclass
class Running:
    fake: FakeDiscord
    bot: Any
    engine: Any


@pytest.fixture
def engine(tmp_path):
    from knowledge.config import load_settings
    from knowledge.engine import Engine

    # Metrics sources point at a closed loopback port: /metrics, /score and /compare never leave 127.0.0.1.
    settings = load_settings(db_path=tmp_path / "bot.db", embedder="hash", ask_workers=2,
                             metrics_base_urls=CLOSED_METRICS_URLS)
    eng = Engine(settings)
    report = eng.ingest_text(AKASH_DOC, "Akash leases", "test:setup", protocol="akash")
    assert not report.failed
    return eng


@contextlib.asynccontextmanager
async def running_bot(engine, *, guild_sync: bool = False, cooldown_s: float | None = 0,
                      **settings_overrides: Any) -> AsyncIterator[Running]:
    """Start the fake, point discord.py at it, start the bot, wait until it is ready; clean up after."""
    import dataclasses

    fake = FakeDiscord()
    await fake.start()
    old_base, old_gateway = discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = fake.api_base
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
    if cooldown_s is not None:
        store_setting(engine.store, fake.guild_id, "cooldown_s", cooldown_s, "test:setup")
    settings = dataclasses.replace(engine.settings, discord_guild_id=fake.guild_id if guild_sync else "",
                                   **settings_overrides)
    bot = create_bot(engine, settings)
    task = asyncio.create_task(bot.start(TOKEN))
    try:
        ready = asyncio.create_task(bot.wait_until_ready())
        done, _ = await asyncio.wait({task, ready}, timeout=20, return_when=asyncio.FIRST_COMPLETED)
        if ready not in done:
            ready.cancel()
            if task in done:
                task.result()  # raise the start-up error
            raise AssertionError("the bot did not become ready within 20 s")
        yield Running(fake, bot, engine)
    finally:
        await bot.close()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(task, 10)
        await keep_alive_threads_ended()
        await fake.stop()
        discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = old_base, old_gateway


async def keep_alive_threads_ended(timeout: float = 5) -> None:
    """Wait, with the loop still running, for discord.py's heartbeat threads to finish. A thread whose wait
    ran out just as close() stopped it still sends one heartbeat through the loop; once the test's loop is
    closed, that raises 'Event loop is closed' in the thread (seen under load in CI, reported against a
    later test)."""
    for thread in threading.enumerate():
        if thread.name.startswith("keep-alive-handler"):
            await asyncio.to_thread(thread.join, timeout)


def run(coro_fn: Callable[[], Awaitable[None]], timeout: float = 60) -> None:
    """Run one async scenario in a fresh event loop with a hard time limit."""
    async def guarded():
        await asyncio.wait_for(coro_fn(), timeout)

    asyncio.run(guarded())


@pytest.fixture(autouse=True)
def _quiet_discord_logs(caplog):
    caplog.set_level(logging.WARNING, logger="discord")
    caplog.set_level(logging.INFO, logger="bot")
    yield
