"""Questions: `/ask`, a mention of the bot, a DM, or a reply in a thread the bot started.

Each becomes one `engine.ask` call in the worker pool, and its Answer one embed with buttons. A first
answer to a mention in a channel opens a thread; follow-ups there keep the thread's protocol unless
they name another.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_bot import checks, render
from bot.discord_bot.cogs._common import actor, protocol_autocomplete
from bot.discord_bot.errors import user_message
from bot.discord_bot.views import answer_view
from knowledge.results import Answer

log = logging.getLogger(__name__)


def _message_kwargs(answer: Answer) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"embed": render.answer_embed(answer)}
    view = answer_view(answer)
    if view is not None:
        kwargs["view"] = view
    return kwargs


class Ask(commands.Cog):
    """Ask questions: /ask, mention the bot, DM it, or reply in a thread it started."""

    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    @app_commands.command(name="ask", description="Ask a question; the answer cites its sources")
    @app_commands.describe(question="Your question, e.g. 'How does Akash's take rate work?'",
                           protocol="Only look at this protocol's documents")
    @app_commands.autocomplete(protocol=protocol_autocomplete)
    @checks.in_allowed_channel()
    @checks.cooldown()
    async def ask(self, interaction: discord.Interaction, question: app_commands.Range[str, 1, 1000],
                  protocol: str | None = None) -> None:
        await interaction.response.defer(thinking=True)  # first: Discord allows 3 s for the ack
        answer = await self.bot.run_engine(self.bot.engine.ask, question, protocol=protocol or None,
                                           asker=actor(interaction.user))
        self.bot.remember_answer(answer)
        await interaction.followup.send(**_message_kwargs(answer))

    # -- mentions, DMs, thread follow-ups -------------------------------------------------------------
    def _ask_in_thread(self, question: str, thread_protocol: str | None, asker: str) -> Answer:
        """Worker-thread body: a follow-up that names no protocol keeps the thread's."""
        engine = self.bot.engine
        protocol = None
        if thread_protocol and not engine.registry.detect(question):
            protocol = thread_protocol
        return engine.ask(question, protocol=protocol, asker=asker)

    async def _our_thread_protocol(self, channel: Any) -> str | None:
        """The stored protocol when `channel` is a thread the bot started ('' if none), else None."""
        if isinstance(channel, (discord.TextChannel, discord.DMChannel, discord.VoiceChannel)):
            return None
        stored = await self.bot.thread_protocol(channel.id)
        if stored is None and isinstance(channel, discord.Thread) and channel.owner_id == self.bot.user.id:
            return ""
        return stored

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        me = self.bot.user
        if me is None or message.author.bot or message.author.id == me.id:
            return
        is_dm = message.guild is None
        mentioned = any(u.id == me.id for u in message.mentions)
        thread_protocol = None if is_dm else await self._our_thread_protocol(message.channel)
        if not (is_dm or mentioned or thread_protocol is not None):
            return
        try:
            await self._answer_message(message, is_dm, thread_protocol)
        except Exception as exc:  # noqa: BLE001 - never silence: a short reply and a log line
            text, expected = user_message(exc)
            if not expected:
                log.error("answering message %s failed", message.id, exc_info=exc)
            try:
                await message.reply(text, mention_author=False)
            except discord.HTTPException:
                log.exception("could not deliver the error reply to message %s", message.id)

    async def _answer_message(self, message: discord.Message, is_dm: bool, thread_protocol: str | None) -> None:
        me = self.bot.user
        question = re.sub(rf"<@!?{me.id}>", " ", message.content or "").strip()
        if not question:
            await message.reply("Ask me a question after the mention, or use `/ask`.", mention_author=False)
            return
        settings = self.bot.guild_settings(message.guild.id if message.guild else None)
        if not is_dm and not checks.channel_allowed(message.channel, settings):
            return  # the server limited the bot to other channels: stay quiet here
        per = float(settings.get("cooldown_s", checks.DEFAULT_COOLDOWN_S))
        retry = self.bot.cooldowns.hit(message.guild.id if message.guild else 0, message.author.id, per)
        if retry > 0:
            await message.reply(f"Slow down a little: try again in {max(1, round(retry))} s.", mention_author=False)
            return
        async with message.channel.typing():
            answer = await self.bot.run_engine(self._ask_in_thread, question, thread_protocol,
                                               actor(message.author))
        self.bot.remember_answer(answer)
        sent = await message.reply(mention_author=False, **_message_kwargs(answer))
        if is_dm or thread_protocol is not None or answer.declined:
            return
        if isinstance(message.channel, discord.TextChannel):
            await self._open_thread(sent, question, answer)

    async def _open_thread(self, sent: discord.Message, question: str, answer: Answer) -> None:
        """Start a thread on the answer so follow-ups stay together (and keep the protocol)."""
        try:
            thread = await sent.create_thread(name=render.clip(question, 100), auto_archive_duration=1440)
        except discord.HTTPException as exc:
            log.warning("could not start a thread in channel %s: %s", sent.channel.id, exc)
            return
        await self.bot.remember_thread(thread.id, answer.protocol or "")


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Ask(bot))
