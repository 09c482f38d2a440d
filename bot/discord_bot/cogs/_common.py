"""Small helpers the cogs share (autocomplete, actor ids)."""

from __future__ import annotations

import discord
from discord import app_commands


def actor(user: discord.abc.User) -> str:
    """The audit actor for a Discord user: `discord:<user id>`."""
    return f"discord:{user.id}"


async def protocol_autocomplete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Protocols from the registry whose id or name starts with (or contains) what was typed."""
    needle = (current or "").strip().lower()
    choices = []
    for pid, label in interaction.client.protocol_choices():
        if not needle or needle in pid or needle in label.lower():
            choices.append(app_commands.Choice(name=label[:100], value=pid))
    return choices[:25]
