"""/config (administrators: allowed channels, moderator role, cooldown), /help and /about."""

from __future__ import annotations

import logging
from importlib import metadata

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_bot import checks, render
from bot.discord_bot.cogs._common import actor

log = logging.getLogger(__name__)


def version() -> str:
    try:
        return metadata.version("compute-desk")
    except metadata.PackageNotFoundError:
        return "dev"


def describe_settings(settings: dict) -> str:
    role = settings.get("moderator_role")
    channels = settings.get("allowed_channels") or []
    cooldown = settings.get("cooldown_s", checks.DEFAULT_COOLDOWN_S)
    return "\n".join([
        f"Moderator role: {f'<@&{role}>' if role else 'none (Manage Server only)'}",
        f"Allowed channels: {', '.join(f'<#{c}>' for c in channels) if channels else 'all'}",
        f"Per-user cooldown: {cooldown:g} s",
    ])


class Admin(commands.Cog):
    """Server configuration and information about the bot."""

    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    @app_commands.command(name="config", description="Server settings: moderator role, channels, cooldown (admins)")
    @app_commands.describe(moderator_role="Members with this role may change the knowledge base",
                           clear_moderator_role="Forget the moderator role (Manage Server only)",
                           allow_channel="Add a channel the bot answers in (none configured: all channels)",
                           disallow_channel="Remove a channel from the allowed list",
                           cooldown_seconds="Seconds a user waits between questions (0 turns it off)")
    @app_commands.guild_only()
    @app_commands.default_permissions(administrator=True)
    @checks.is_admin()
    async def config(self, interaction: discord.Interaction, moderator_role: discord.Role | None = None,
                     clear_moderator_role: bool = False, allow_channel: discord.TextChannel | None = None,
                     disallow_channel: discord.TextChannel | None = None,
                     cooldown_seconds: app_commands.Range[int, 0, 3600] | None = None) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        gid, who = interaction.guild_id, actor(interaction.user)
        current = dict(self.bot.guild_settings(gid))
        changed = []
        if moderator_role is not None or clear_moderator_role:
            value = None if clear_moderator_role else moderator_role.id
            await self.bot.set_guild_setting(gid, "moderator_role", value, who)
            changed.append("moderator role")
        if allow_channel is not None or disallow_channel is not None:
            channels = [int(c) for c in current.get("allowed_channels") or []]
            if allow_channel is not None and allow_channel.id not in channels:
                channels.append(allow_channel.id)
            if disallow_channel is not None:
                channels = [c for c in channels if c != disallow_channel.id]
            await self.bot.set_guild_setting(gid, "allowed_channels", channels, who)
            changed.append("channels")
        if cooldown_seconds is not None:
            await self.bot.set_guild_setting(gid, "cooldown_s", int(cooldown_seconds), who)
            changed.append("cooldown")
        text = describe_settings(self.bot.guild_settings(gid))
        head = f"Updated {', '.join(changed)}." if changed else "Current settings:"
        await interaction.followup.send(f"{head}\n{text}", ephemeral=True)

    @app_commands.command(name="help", description="What Compute Desk can do and how to ask")
    async def help(self, interaction: discord.Interaction) -> None:
        embed = discord.Embed(title="Compute Desk", color=render.COLOR_ANSWER, description=(
            "Cited answers about decentralized-compute protocols (Render, Akash, Bittensor, ...). "
            "Ask with `/ask`, by mentioning me, in a DM, or by replying in a thread I started."))
        for cmd in sorted(self.bot.tree.walk_commands(), key=lambda c: c.qualified_name):
            if isinstance(cmd, app_commands.Group):
                continue
            embed.add_field(name=f"/{cmd.qualified_name}", value=cmd.description or "—", inline=False)
        await interaction.response.send_message(embed=render.fit(embed), ephemeral=True)

    @app_commands.command(name="about", description="Knowledge base size, last update and version")
    async def about(self, interaction: discord.Interaction) -> None:
        stats = await self.bot.run_light(self.bot.engine.stats)
        embed = discord.Embed(title="About Compute Desk", color=render.COLOR_ANSWER)
        embed.add_field(name="Documents", value=str(stats.get("documents", 0)), inline=True)
        embed.add_field(name="Passages", value=str(stats.get("chunks", 0)), inline=True)
        embed.add_field(name="Last update", value=str(stats.get("last_update") or "never"), inline=True)
        embed.add_field(name="Version", value=version(), inline=True)
        await interaction.response.send_message(embed=render.fit(embed), ephemeral=True)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Admin(bot))
