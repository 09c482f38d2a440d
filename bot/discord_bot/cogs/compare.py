"""/compare: up to three protocols side by side, with the chart."""

from __future__ import annotations

import logging
import re

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_bot import checks, render
from bot import features
from knowledge.errors import BadInputError

log = logging.getLogger(__name__)


def parse_protocols(text: str) -> list[str]:
    """'render, akash tao' -> ['render', 'akash', 'tao'] (2 to 3 names, duplicates dropped)."""
    names = [n for n in re.split(r"[\s,;/]+|\bvs\.?\b", (text or "").lower()) if n]
    seen: list[str] = []
    for n in names:
        if n not in seen:
            seen.append(n)
    if not 2 <= len(seen) <= 3:
        raise BadInputError("Name two or three protocols, e.g. `render akash bittensor`.")
    return seen


class Compare(commands.Cog):
    """Compare protocols side by side."""

    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    async def _autocomplete(self, interaction: discord.Interaction, current: str):
        """Complete the last name typed: 'render, ak' -> 'render, akash'."""
        head, _, last = (current or "").rpartition(",") if "," in (current or "") else ("", "", current or "")
        if not head and " " in last.strip():
            head, _, last = last.rpartition(" ")
        prefix = (head + ", ") if head.strip() else ""
        out = []
        for pid, label in self.bot.protocol_choices():
            if last.strip().lower() in pid or last.strip().lower() in label.lower():
                value = (prefix + pid)[:100]
                out.append(app_commands.Choice(name=render.clip(prefix + label, 100), value=value))
        return out[:25]

    @app_commands.command(name="compare", description="Compare up to 3 protocols side by side, with a chart")
    @app_commands.describe(protocols="Two or three protocols, e.g. 'render, akash, bittensor'")
    @app_commands.autocomplete(protocols=_autocomplete)
    @checks.in_allowed_channel()
    @checks.cooldown()
    async def compare(self, interaction: discord.Interaction, protocols: str) -> None:
        ids = parse_protocols(protocols)
        await interaction.response.defer(thinking=True)
        data, chart = await self.bot.run_engine(features.compare, self.bot.engine, ids)
        embed = render.compare_embed(data)
        if chart is not None:
            embed.set_image(url="attachment://compare.png")
            await interaction.followup.send(embed=embed, file=discord.File(chart, filename="compare.png"))
        else:
            await interaction.followup.send(embed=embed)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Compare(bot))
