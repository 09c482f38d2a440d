"""The bot factory: `create_bot(engine, settings)` -> a `commands.Bot` (or `AutoShardedBot`) with the cogs.

CPU work (embedding, retrieval, ingestion) runs in a bounded thread pool so the gateway heartbeat never
waits on it; quick store reads (settings, listings, feedback) use a second small pool so they never queue
behind a burst of questions.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, TypeVar

import discord
from discord.ext import commands

from bot.discord_bot import checks, errors, views
from knowledge.results import Answer

log = logging.getLogger(__name__)
T = TypeVar("T")

COGS = ("ask", "kb", "compare", "metrics", "admin")
GUILD_KEYS = ("moderator_role", "allowed_channels", "cooldown_s")
BOT_ACTOR = "discord:bot"


def intents(message_content: bool = True) -> discord.Intents:
    """Guilds, guild messages and DMs; message content only for mentions (a privileged intent)."""
    value = discord.Intents.none()
    value.guilds = True
    value.guild_messages = True
    value.dm_messages = True
    value.message_content = message_content
    return value


def store_setting(store: Any, scope: str, key: str, value: Any, actor: str) -> None:
    """`Store.set_setting`, audited with the acting Discord user."""
    store.set_setting(scope, key, value, actor)


class DeskMixin:
    """What the cogs use: the engine, the executors, per-server settings, recent answers."""

    engine: Any
    settings: Any

    def _init_desk(self, engine: Any, settings: Any) -> None:
        self.engine = engine
        self.settings = settings
        workers = max(1, int(getattr(settings, "ask_workers", 2) or 2))
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="desk-engine")
        self.light_executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="desk-light")
        self.cooldowns = checks.Cooldowns()
        self._guild_cache: dict[int, dict[str, Any]] = {}
        self._answers: OrderedDict[str, Answer] = OrderedDict()
        self._protocols: list[tuple[str, str]] | None = None

    # -- running engine calls off the event loop ---------------------------------------------------
    async def run_engine(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run CPU-bound engine work (ask, ingest) in the bounded worker pool."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, functools.partial(fn, *args, **kwargs))

    async def run_light(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run a quick store call (reads, feedback, settings) in the small pool."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.light_executor, functools.partial(fn, *args, **kwargs))

    # -- per-server settings (stored in the database, cached here) ---------------------------------
    def guild_settings(self, guild_id: int | None) -> dict[str, Any]:
        """A server's settings: moderator_role, allowed_channels, cooldown_s (point reads, cached)."""
        if guild_id is None:
            return {}
        cached = self._guild_cache.get(guild_id)
        if cached is None:
            store = self.engine.store
            cached = {}
            for key in GUILD_KEYS:
                value = store.get_setting(str(guild_id), key, None)
                if value is not None:
                    cached[key] = value
            self._guild_cache[guild_id] = cached
        return cached

    async def set_guild_setting(self, guild_id: int, key: str, value: Any, actor: str) -> None:
        """Store one server setting (audited) and drop the cached copy."""
        await self.run_light(store_setting, self.engine.store, str(guild_id), key, value, actor)
        self._guild_cache.pop(guild_id, None)

    # -- threads the bot started: their protocol ---------------------------------------------------
    async def remember_thread(self, thread_id: int, protocol: str) -> None:
        await self.run_light(store_setting, self.engine.store, f"thread:{thread_id}", "protocol", protocol or "",
                             BOT_ACTOR)

    async def thread_protocol(self, thread_id: int) -> str | None:
        """The protocol of a thread the bot started ('' if none), or None for other threads."""
        return await self.run_light(self.engine.store.get_setting, f"thread:{thread_id}", "protocol", None)

    # -- recent answers (for "More sources") --------------------------------------------------------
    def remember_answer(self, answer: Answer, keep: int = 500) -> None:
        if not answer.answer_id:
            return
        self._answers[answer.answer_id] = answer
        self._answers.move_to_end(answer.answer_id)
        while len(self._answers) > keep:
            self._answers.popitem(last=False)

    def recent_answer(self, answer_id: str) -> Answer | None:
        """From memory, else from the store (answers outlive a restart); None if unknown."""
        return self._answers.get(answer_id) or self.engine.get_answer(answer_id)

    # -- protocols for autocomplete -----------------------------------------------------------------
    def protocol_choices(self) -> list[tuple[str, str]]:
        """(id, 'Name (TICKER)') for every protocol in the registry."""
        if self._protocols is None:
            self._protocols = [
                (p.id, f"{p.name} ({', '.join(p.tickers)})" if p.tickers else p.name) for p in self.engine.registry
            ]
        return self._protocols

    def forget_protocols(self) -> None:
        self._protocols = None

    # -- lifecycle -----------------------------------------------------------------------------------
    async def setup_hook(self) -> None:
        for name in COGS:
            await self.load_extension(f"bot.discord_bot.cogs.{name}")
        self.add_dynamic_items(*views.DYNAMIC_ITEMS)
        guild_id = str(getattr(self.settings, "discord_guild_id", "") or "").strip()
        if guild_id:
            guild = discord.Object(id=int(guild_id))
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d commands to guild %s", len(synced), guild_id)
        else:
            synced = await self.tree.sync()
            log.info("synced %d global commands (may take up to an hour to appear)", len(synced))

    async def on_message(self, message: discord.Message) -> None:
        """No prefix commands: mentions, DMs and thread replies are handled by the ask cog's listener."""

    async def on_ready(self) -> None:
        log.info("connected as %s (%s) to %d servers", self.user, getattr(self.user, "id", "?"), len(self.guilds))

    async def close(self) -> None:
        await super().close()  # type: ignore[misc]
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.light_executor.shutdown(wait=False, cancel_futures=True)


class DeskBot(DeskMixin, commands.Bot):
    """One process, one gateway connection."""


class ShardedDeskBot(DeskMixin, commands.AutoShardedBot):
    """Several shards in this process (`--shards N|auto`)."""


def create_bot(engine: Any, settings: Any, *, message_content: bool = True, **options: Any) -> commands.Bot:
    """The bot: cogs, error handler, executors; sharded when `settings.discord_shards` is not 0."""
    shards = int(getattr(settings, "discord_shards", 0) or 0)
    kwargs: dict[str, Any] = dict(
        command_prefix=commands.when_mentioned,  # no prefix commands; mentions are questions (ask cog)
        intents=intents(message_content),
        tree_cls=errors.Tree,
        help_command=None,
        allowed_mentions=discord.AllowedMentions(everyone=False, roles=False, users=True, replied_user=False),
        **options,
    )
    if shards:
        cls: type = ShardedDeskBot
        kwargs["shard_count"] = None if shards < 0 else shards
    else:
        cls = DeskBot
    bot = cls(**kwargs)
    bot._init_desk(engine, settings)
    return bot
