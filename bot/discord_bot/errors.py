"""The one error handler: error types -> short messages for people; unexpected errors -> a log line with
the trace and a generic reply. Never silence, never a traceback or a secret in a message.
"""

from __future__ import annotations

import logging
import math

import discord
from discord import app_commands

from bot.discord_bot import checks
from knowledge.errors import ComputeDeskError

log = logging.getLogger(__name__)

GENERIC = "Something went wrong on my side and it has been logged. Please try again in a moment."


def user_message(error: BaseException) -> tuple[str, bool]:
    """The message to show for `error`, and whether it was expected (False: log the trace)."""
    if isinstance(error, (app_commands.CommandInvokeError, app_commands.TransformerError)) and error.__cause__:
        error = error.__cause__
    original = getattr(error, "original", None)
    if isinstance(original, BaseException):
        error = original
    if isinstance(error, checks.NotModerator):
        return "Only moderators can do that (the server's moderator role or the Manage Server permission).", True
    if isinstance(error, checks.NotAdmin):
        return "Only server administrators can change the configuration.", True
    if isinstance(error, checks.ChannelNotAllowed):
        where = ", ".join(f"<#{c}>" for c in error.allowed) or "the configured channels"
        return f"I answer in {where} on this server.", True
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down a little: try again in {max(1, math.ceil(error.retry_after))} s.", True
    if isinstance(error, app_commands.NoPrivateMessage):
        return "That command only works in a server.", True
    if isinstance(error, app_commands.MissingPermissions):
        return "You don't have the permissions that command needs.", True
    if isinstance(error, app_commands.CheckFailure):
        return "You can't use that command here.", True
    if isinstance(error, ComputeDeskError):
        return str(error)[:1900] or "That didn't work.", True
    if isinstance(error, discord.Forbidden):
        return "I'm missing a Discord permission for that here (ask a server admin).", False
    return GENERIC, False


async def reply_error(interaction: discord.Interaction, error: BaseException) -> None:
    """Log `error` (with the trace when unexpected) and tell the user ephemerally."""
    text, expected = user_message(error)
    command = interaction.command.qualified_name if interaction.command else getattr(interaction, "data", {})
    if expected:
        log.info("interaction %s by %s: %s", command, interaction.user.id, text)
    else:
        log.error("interaction %s by %s failed", command, interaction.user.id, exc_info=error)
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True)
        else:
            await interaction.response.send_message(text, ephemeral=True)
    except discord.HTTPException:
        log.exception("could not deliver the error message for interaction %s", interaction.id)


class Tree(app_commands.CommandTree):
    """The command tree with the error handler installed."""

    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        await reply_error(interaction, error)
