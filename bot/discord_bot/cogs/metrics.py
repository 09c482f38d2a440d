"""/metrics and /score: live figures ("as of", source, stale marked) and the usage-vs-speculation score."""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_bot import checks, render
from bot import features
from bot.discord_bot.cogs._common import protocol_autocomplete
from bot.discord_bot.cogs.compare import _when
from bot.discord_bot.replies import send_embed

MAX_FIGURE_FIELDS = 21  # leaves room for the "Not available" field within Discord's 25


def _display(m: Any) -> str:
    from knowledge.metrics.questions import format_value

    return format_value(m)


def _number(v: Any) -> str:
    """12,345,678 / 68.02 / 0.1234; text as is."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return str(v)
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:,.4g}"


def metrics_embed(name: str, values: list[Any]) -> discord.Embed:
    """Figures with value, as of, source (stale marked); what is unavailable listed with the reason."""
    embed = discord.Embed(title=render.clip(f"Metrics: {name}", render.TITLE_LIMIT), color=render.COLOR_ANSWER)
    shown = [m for m in values if m.available]
    missing = [m for m in values if not m.available]
    stale_any = False
    for m in shown[:MAX_FIGURE_FIELDS]:
        stale_any |= bool(m.stale)
        lines = [_display(m), f"as of {_when(m.as_of)}", f"source: {m.source}"]
        if m.stale:
            lines.append("⚠️ stale: " + (m.note or "cached; the source did not answer"))
        elif m.note:
            lines.append(m.note)
        embed.add_field(name=render.clip(("⚠️ " if m.stale else "") + (m.label or m.name), 250),
                        value=render.lines_field(lines, line_limit=200), inline=True)
    more = shown[MAX_FIGURE_FIELDS:]
    if more:
        embed.add_field(name="More figures", inline=False, value=render.lines_field(
            f"{m.label or m.name}: {_display(m)} (as of {_when(m.as_of)}, {m.source})" for m in more))
    if missing:
        groups: dict[tuple[str, str, str], list[str]] = {}  # one line per source and reason
        for m in missing:
            groups.setdefault((str(m.value), m.source, m.note), []).append(m.label or m.name)
        embed.add_field(name="Not available", inline=False, value=render.lines_field(
            f"{'; '.join(labels)}: {status} ({source}{': ' + note if note else ''})"
            for (status, source, note), labels in groups.items()))
    if not shown:
        embed.description = (f"No figures are cached for {name} and the sources did not answer; "
                             "the list below says what is missing and why.")
    embed.set_footer(text=("⚠️ marks stale figures served from the cache · " if stale_any else "")
                     + "figures, not financial advice")
    return render.fit(embed)


def score_embed(name: str, data: dict[str, Any]) -> discord.Embed:
    """Score with its label, confidence, factors (points taken off, explained) and sustainability beside it."""
    score = data.get("score")
    if score is None:
        embed = discord.Embed(title=render.clip(f"Score: {name} — no score", render.TITLE_LIMIT),
                              color=render.COLOR_DECLINE)
        embed.description = render.trim(
            (data.get("note") or "no score") + ". The score needs cached daily price history and usage; "
            "it appears once the metrics sources have answered.", 1000)
        if data.get("missing"):
            embed.add_field(name="Missing", value=render.lines_field(data["missing"]), inline=False)
        return render.fit(embed)
    embed = discord.Embed(title=render.clip(f"Score: {name} — {score:.0f}/100, {data.get('label')}",
                                            render.TITLE_LIMIT), color=render.COLOR_ANSWER)
    embed.description = ("0 = valuation driven by speculation, 100 = backed by real usage. "
                         "Factors show the points each one takes off.")
    embed.add_field(name="Confidence", value=render.confidence_label(float(data.get("confidence") or 0)), inline=True)
    embed.add_field(name="As of", value=str(data.get("as_of") or "?"), inline=True)
    if data.get("source"):
        embed.add_field(name="Data", value=render.clip(data["source"], 200), inline=True)
    lines = []
    for f in data.get("factors") or []:
        pts = f.get("contribution")
        lines.append(f"**{str(f.get('name', '?')).replace('_', ' ')}** "
                     f"({'n/a' if pts is None else f'{pts:.1f} pts'}): {f.get('explanation', '')}")
    if lines:
        embed.add_field(name="Factors", value=render.lines_field(lines, line_limit=300), inline=False)
    sus = {k: v for k, v in (data.get("sustainability") or {}).items() if v is not None and k != "note"}
    if sus:
        embed.add_field(name="Sustainability (beside the score, not in it)", inline=False, value=render.lines_field(
            f"{k.replace('_', ' ')}: {_number(v)}" for k, v in sus.items()))
    embed.set_footer(text="usage-vs-speculation score · not financial advice")
    return render.fit(embed)

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
        name = self.bot.engine.registry.get(protocol).name
        await interaction.followup.send(embed=metrics_embed(name, values))

    @app_commands.command(name="score", description="Usage-vs-speculation score: label, factors, confidence, chart")
    @app_commands.describe(protocol="Which protocol")
    @app_commands.autocomplete(protocol=protocol_autocomplete)
    @checks.in_allowed_channel()
    @checks.cooldown()
    async def score(self, interaction: discord.Interaction, protocol: str) -> None:
        await interaction.response.defer(thinking=True)
        data, chart = await self.bot.run_engine(features.score, self.bot.engine, protocol)
        await send_embed(interaction, score_embed(self.bot.engine.registry.get(protocol).name, data), chart,
                         "score.png")


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Metrics(bot))
