"""Buttons under an answer: 👍 / 👎 (stored per answer and user) and "More sources".

They are dynamic items: the answer id travels in the button's custom_id, so buttons on old messages keep
working after the bot restarts.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import discord

from bot.discord_bot import render
from bot.discord_bot.errors import reply_error
from knowledge.results import Answer

log = logging.getLogger(__name__)

_AID = r"(?P<aid>[A-Za-z0-9_-]{1,64})"


class VoteButton(discord.ui.DynamicItem[discord.ui.Button], template=rf"cd:vote:(?P<vote>up|down):{_AID}"):
    """👍 or 👎 for one answer."""

    def __init__(self, answer_id: str, vote: str) -> None:
        self.answer_id, self.vote = answer_id, vote
        super().__init__(discord.ui.Button(
            emoji="👍" if vote == "up" else "👎",
            style=discord.ButtonStyle.secondary,
            custom_id=f"cd:vote:{vote}:{answer_id}",
        ))

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button,
                             match: re.Match[str], /) -> "VoteButton":
        return cls(match["aid"], match["vote"])

    async def callback(self, interaction: discord.Interaction) -> Any:
        bot = interaction.client
        try:
            await bot.run_light(bot.engine.record_feedback, self.answer_id, str(interaction.user.id),
                                1 if self.vote == "up" else -1)
        except Exception as exc:  # noqa: BLE001 - mapped to a message by the one handler
            await reply_error(interaction, exc)
            return
        thanks = "Thanks, noted 👍" if self.vote == "up" else "Thanks, noted 👎: it helps us find weak answers."
        await interaction.response.send_message(thanks, ephemeral=True)


class MoreSourcesButton(discord.ui.DynamicItem[discord.ui.Button], template=rf"cd:more:{_AID}"):
    """Shows every source of an answer with its passage (ephemeral)."""

    def __init__(self, answer_id: str) -> None:
        self.answer_id = answer_id
        super().__init__(discord.ui.Button(label="More sources", style=discord.ButtonStyle.primary,
                                           custom_id=f"cd:more:{answer_id}"))

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button,
                             match: re.Match[str], /) -> "MoreSourcesButton":
        return cls(match["aid"])

    async def callback(self, interaction: discord.Interaction) -> Any:
        answer = interaction.client.recent_answer(self.answer_id)
        if answer is None:
            await interaction.response.send_message(
                "I no longer have the passages for that answer in memory; ask again to see them.", ephemeral=True)
            return
        await interaction.response.send_message(embed=render.sources_embed(answer), ephemeral=True)


def answer_view(answer: Answer) -> discord.ui.View | None:
    """The buttons for an answer (None for a decline or an answer that was not stored)."""
    if answer.declined or not answer.answer_id:
        return None
    view = discord.ui.View(timeout=None)
    view.add_item(VoteButton(answer.answer_id, "up"))
    view.add_item(VoteButton(answer.answer_id, "down"))
    if answer.sources:
        view.add_item(MoreSourcesButton(answer.answer_id))
    return view


DYNAMIC_ITEMS = (VoteButton, MoreSourcesButton)
