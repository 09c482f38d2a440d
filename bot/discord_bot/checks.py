"""Permission and rate checks, as small decorator factories (`is_moderator()`, `is_admin()`, ...).

Every check runs on the bot's side for every invocation. `default_permissions` only hides commands in
the Discord client, which a server can override, so it is never the only guard.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import discord
from discord import app_commands

log = logging.getLogger(__name__)

# Hidden by default from members without Manage Server (a server can grant a moderator role access
# in Server Settings -> Integrations); the real check is `is_moderator()`.
MODERATOR_DEFAULT_PERMISSIONS = discord.Permissions(manage_guild=True)
ADMIN_DEFAULT_PERMISSIONS = discord.Permissions(administrator=True)


class NotModerator(app_commands.CheckFailure):
    """The user is neither in the configured moderator role nor has Manage Server."""


class NotAdmin(app_commands.CheckFailure):
    """The user lacks the Administrator permission."""


class ChannelNotAllowed(app_commands.CheckFailure):
    """The server limits the bot to some channels and this is not one of them."""

    def __init__(self, allowed: list[int]) -> None:
        super().__init__("channel not allowed")
        self.allowed = allowed


def member_is_moderator(member: Any, guild_settings: Mapping[str, Any],
                        permissions: discord.Permissions | None = None) -> bool:
    """True for a member with Manage Server (or Administrator) or the server's configured moderator role.

    `permissions` are the resolved permissions Discord sends with an interaction; without them the
    member's guild permissions are used. A user outside a server (a DM) is never a moderator.
    """
    if not isinstance(member, discord.Member):
        return False
    perms = permissions if permissions is not None else (member.resolved_permissions or member.guild_permissions)
    if perms.administrator or perms.manage_guild:
        return True
    role_id = guild_settings.get("moderator_role")
    if role_id:
        return any(role.id == int(role_id) for role in member.roles)
    return False


def member_is_admin(member: Any, permissions: discord.Permissions | None = None) -> bool:
    """True for a server member with the Administrator permission."""
    if not isinstance(member, discord.Member):
        return False
    perms = permissions if permissions is not None else (member.resolved_permissions or member.guild_permissions)
    return bool(perms.administrator)


def channel_allowed(channel: Any, guild_settings: Mapping[str, Any]) -> bool:
    """True when the server allows every channel or this one (a thread counts as its parent)."""
    allowed = [int(c) for c in guild_settings.get("allowed_channels") or []]
    if not allowed or channel is None:
        return True
    ids = {getattr(channel, "id", None), getattr(channel, "parent_id", None)}
    return bool(ids & set(allowed))


def _settings_for(interaction: discord.Interaction) -> Mapping[str, Any]:
    getter = getattr(interaction.client, "guild_settings", None)
    if interaction.guild_id is None or getter is None:
        return {}
    return getter(interaction.guild_id)


def is_moderator():
    """Decorator: only moderators (configured role or Manage Server) may run the command."""

    async def predicate(interaction: discord.Interaction) -> bool:
        if member_is_moderator(interaction.user, _settings_for(interaction), interaction.permissions):
            return True
        log.info("refused %s to non-moderator %s", _command_name(interaction), interaction.user.id)
        raise NotModerator("moderators only")

    return app_commands.check(predicate)


def is_admin():
    """Decorator: only server administrators may run the command."""

    async def predicate(interaction: discord.Interaction) -> bool:
        if member_is_admin(interaction.user, interaction.permissions):
            return True
        log.info("refused %s to non-admin %s", _command_name(interaction), interaction.user.id)
        raise NotAdmin("administrators only")

    return app_commands.check(predicate)


def in_allowed_channel():
    """Decorator: refuse (ephemerally) outside the server's allowed channels."""

    async def predicate(interaction: discord.Interaction) -> bool:
        settings = _settings_for(interaction)
        if channel_allowed(interaction.channel, settings):
            return True
        raise ChannelNotAllowed([int(c) for c in settings.get("allowed_channels") or []])

    return app_commands.check(predicate)


def cooldown():
    """Decorator: the server's per-user cooldown (default 5 s) between questions."""

    async def predicate(interaction: discord.Interaction) -> bool:
        limiter: Cooldowns | None = getattr(interaction.client, "cooldowns", None)
        if limiter is None:
            return True
        per = float(_settings_for(interaction).get("cooldown_s", DEFAULT_COOLDOWN_S))
        retry = limiter.hit(interaction.guild_id or 0, interaction.user.id, per)
        if retry > 0:
            raise app_commands.CommandOnCooldown(app_commands.Cooldown(1, per), retry)
        return True

    return app_commands.check(predicate)


def _command_name(interaction: discord.Interaction) -> str:
    command = interaction.command
    return f"/{command.qualified_name}" if command else "a command"


DEFAULT_COOLDOWN_S = 5.0


class Cooldowns:
    """Per (server, user) cooldowns shared by slash commands and mentions: one question per `per` seconds."""

    def __init__(self, clock=time.monotonic) -> None:
        self._clock = clock
        self._last: dict[tuple[int, int], float] = {}

    def hit(self, guild_id: int, user_id: int, per: float) -> float:
        """Record a use; 0 if allowed, else the seconds left to wait."""
        if per <= 0:
            return 0.0
        now = self._clock()
        key = (guild_id, user_id)
        last = self._last.get(key)
        if last is not None and now - last < per:
            return per - (now - last)
        self._last[key] = now
        if len(self._last) > 10_000:  # forget old entries
            self._last = {k: v for k, v in self._last.items() if now - v < 3600}
        return 0.0
