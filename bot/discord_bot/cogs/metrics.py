"""/metrics and /score: live figures ("as of", source, stale marked) and the usage-vs-speculation score."""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_bot import checks, render
from bot import features
from bot.discord_bot.cogs._common import protocol_autocomplete

log = logging.getLogger(__name__)


class Metrics(commands.Cog):
    """Live metrics and scores per protocol."""

    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    @app_commands.command(name="metrics", description="Live figures for a protocol, with 'as of' and source")
    @app_commands.describe(protocol="Which protocol")
    @app_commands.autocomplete(protocol=protocol_autocomplete)
    @checks.in_allowed_channel()
    @checks.cooldown()
    async def metrics(self, interaction: discord.Interaction, protocol: str) -> None:
        await interaction.response.defer(thinking=True)
        values = await self.bot.run_engine(features.current_metrics, self.bot.engine, protocol)
        await interaction.followup.send(embed=render.metrics_embed(protocol, values))

    @app_commands.command(name="score", description="Usage-vs-speculation score: label, factors, confidence, chart")
    @app_commands.describe(protocol="Which protocol")
    @app_commands.autocomplete(protocol=protocol_autocomplete)
    @checks.in_allowed_channel()
    @checks.cooldown()
    async def score(self, interaction: discord.Interaction, protocol: str) -> None:
        await interaction.response.defer(thinking=True)
        data, chart = await self.bot.run_engine(features.score, self.bot.engine, protocol)
        embed = render.score_embed(protocol, data)
        if chart is not None:
            embed.set_image(url="attachment://score.png")
            await interaction.followup.send(embed=embed, file=discord.File(chart, filename="score.png"))
        else:
            await interaction.followup.send(embed=embed)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Metrics(bot))
