"""/compare: up to three protocols side by side, with the chart."""

from __future__ import annotations

import logging
import re
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_bot import checks, render
from bot.discord_bot.replies import send_embed
from bot import features
from knowledge.errors import BadInputError

log = logging.getLogger(__name__)


def parse_protocols(text: str) -> list[str]:
    """'render, akash tao' -> ['render', 'akash', 'tao'] (1 to 3 names, duplicates dropped)."""
    names = [n for n in re.split(r"[\s,;/]+|\bvs\.?\b", (text or "").lower()) if n]
    seen: list[str] = []
    for n in names:
        if n not in seen:
            seen.append(n)
    if not 1 <= len(seen) <= 3:
        raise BadInputError("Name one to three protocols, e.g. `render akash bittensor`.")
    return seen


def _cited(c: dict[str, Any] | None, limit: int = 700) -> str:
    if not c:
        return "Not in the knowledge base yet."
    src = c["source"]
    where = src.get("url") or src.get("path") or ""
    cite = render.clip(f"— {src.get('title') or where}" + (f", {src['section']}" if src.get("section") else "")
                       + (f" ({where})" if where and where != src.get("title") else ""), 250)
    return render.trim(c["text"], limit - len(cite) - 1) + "\n" + cite


def _as_of_lines(rows: list[dict[str, Any]]) -> list[str]:
    """'as of 2025-06-30 12:00:00 UTC · CoinGecko, DefiLlama': the oldest figure per source, stale marked."""
    per_source: dict[str, tuple[str, bool]] = {}
    for r in rows:
        as_of, stale = per_source.get(r["source"], (r["as_of"], False))
        per_source[r["source"]] = (min(a for a in (as_of, r["as_of"]) if a) if (as_of or r["as_of"]) else "",
                                   stale or bool(r["stale"]))
    grouped: dict[tuple[str, bool], list[str]] = {}
    for src, key in per_source.items():
        grouped.setdefault(key, []).append(src)
    return [f"as of {_when(a)} · {', '.join(srcs)}" + (" ⚠️ stale" if st else "") for (a, st), srcs in grouped.items()]


def _when(iso: str) -> str:
    return iso.replace("T", " ").replace(":00Z", " UTC").replace("Z", " UTC") if iso else "?"


def _summary(col: dict[str, Any]) -> str:
    """One protocol's column: focus, score, key market and usage figures, sustainability, as of."""
    lines = []
    if col["focus"].get("registry"):
        lines.append(f"*{col['focus']['registry']}*")
    s = col.get("score")
    if s and s.get("score") is not None:
        lines.append(f"**Score**: {s['score']:.0f}/100 {s['label']} (confidence {s['confidence']:.2f})")
    else:
        lines.append("**Score**: none (see Missing)")
    figures = {r["name"]: r for r in col["market"] + col["usage"]}
    shown = []
    for name, label in (("market_cap", "Market cap"), ("price", "Price"), ("fdv", "FDV"),
                        ("compute_spend_30d", "Compute spend 30 d"), ("fees_30d", "Fees 30 d"),
                        ("revenue_30d", "Revenue 30 d"), ("burns_30d", "Burns 30 d"),
                        ("active_gpus", "GPUs leased"), ("p_s", "P/S")):
        r = figures.get(name)
        if r:
            shown.append(r)
            lines.append(f"**{label}**: {r['display']}" + (" ⚠️" if r["stale"] else ""))
    sus = col.get("sustainability") or {}
    for r in sus.get("emissions", []):
        if r["name"] == "emissions_daily_usd" or len(sus.get("emissions", [])) == 1:
            shown.append(r)
            lines.append(f"**Emissions**: {r['display']}" + (" ⚠️" if r["stale"] else ""))
    lines.append(f"**Sustainability**: {sus.get('summary', 'n/a')}")
    if not shown:
        lines.append("No figures cached.")
    lines += _as_of_lines(shown)
    return render.lines_field(lines, limit=render.FIELD_VALUE_LIMIT, line_limit=200)


def compare_embed(data: dict[str, Any]) -> discord.Embed:
    """Protocols side by side: a column each (figures with as of), then cited utility and risks, then Missing."""
    cols = data.get("protocols") or []
    names = [c["name"] for c in cols]
    embed = discord.Embed(title=render.clip("Comparison: " + " vs ".join(names), render.TITLE_LIMIT),
                          color=render.COLOR_ANSWER)
    embed.description = render.trim(data.get("note", ""), 400)
    for col in cols:
        tick = "/".join(col["tickers"][:1])
        embed.add_field(name=render.clip(col["name"] + (f" ({tick})" if tick else ""), 100), value=_summary(col),
                        inline=True)
    budget = {1: 1000, 2: 600}.get(len(cols), 400)  # utility + risks of every column within the 6,000 total
    for col in cols:
        embed.add_field(name=render.clip(f"{col['name']} — token utility", 100),
                        value=_cited(col.get("token_utility"), budget), inline=False)
        embed.add_field(name=render.clip(f"{col['name']} — main risks", 100),
                        value=_cited(col.get("risks"), budget), inline=False)
    footer = render.clip(f"generated {_when(data.get('generated_at', ''))} · knowledge base + metrics cache · "
                         "not financial advice", render.FOOTER_LIMIT)
    embed.set_footer(text=footer)
    # What could not be filled, one field per protocol, sharing what is left of the 6,000 total.
    lacking = [c for c in cols if c.get("missing")]
    room = render.EMBED_TOTAL_LIMIT - len(embed) - 40 * len(lacking)
    for col in lacking:
        share = max(60, min(render.FIELD_VALUE_LIMIT, room // len(lacking)))
        embed.add_field(name=render.clip(f"Missing — {col['name']}", 100), inline=False,
                        value=render.lines_field(col["missing"], limit=share, line_limit=170))
    return render.fit(embed)


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
    @app_commands.describe(protocols="Up to three protocols, e.g. 'render, akash, bittensor'")
    @app_commands.autocomplete(protocols=_autocomplete)
    @checks.in_allowed_channel()
    @checks.cooldown()
    async def compare(self, interaction: discord.Interaction, protocols: str) -> None:
        ids = parse_protocols(protocols)
        await interaction.response.defer(thinking=True)
        data, chart = await self.bot.run_engine(features.compare, self.bot.engine, ids)
        await send_embed(interaction, compare_embed(data), chart, "compare.png")


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Compare(bot))
