"""Sending helpers shared by the cogs: an embed with an optional chart image attached."""

from __future__ import annotations

import os
from pathlib import Path

import discord


async def send_embed(interaction: discord.Interaction, embed: discord.Embed, chart: str | Path | None,
                     filename: str) -> None:
    """Follow up with the embed; a chart file is attached, shown inside the embed, then deleted."""
    if chart is None:
        await interaction.followup.send(embed=embed)
        return
    embed.set_image(url=f"attachment://{filename}")
    try:
        await interaction.followup.send(embed=embed, file=discord.File(chart, filename=filename))
    finally:
        try:
            os.unlink(chart)
        except OSError:
            pass
