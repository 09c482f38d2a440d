"""Moderators keep the knowledge base current: /kb add, remove, restore, list, history, gaps.

Every subcommand carries the server-side `is_moderator()` check (the group is also hidden by default
from members without Manage Server). Every change is made with actor `discord:<user id>`, which the
engine writes to the audit log.
"""

from __future__ import annotations

import logging
from pathlib import Path

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_bot import checks, render
from bot.discord_bot.cogs._common import actor, protocol_autocomplete
from knowledge.errors import BadInputError

log = logging.getLogger(__name__)

MAX_ATTACHMENT_BYTES = 8 * 1024 * 1024
ALLOWED_SUFFIXES = (".md", ".mdx", ".markdown", ".txt", ".html", ".htm", ".pdf")


def check_attachment(filename: str, size: int) -> None:
    """Refuse an attachment of the wrong type or over the size limit, with a clear message."""
    suffix = Path(filename or "").suffix.lower()
    if suffix not in ALLOWED_SUFFIXES:
        raise BadInputError(f"I can't read `{render.clip(filename, 80)}`: send one of "
                            f"{', '.join(ALLOWED_SUFFIXES)}.")
    if size > MAX_ATTACHMENT_BYTES:
        raise BadInputError(f"`{render.clip(filename, 80)}` is {size / 1_048_576:.1f} MB; the limit is "
                            f"{MAX_ATTACHMENT_BYTES // 1_048_576} MB. Split it or link it with `url:`.")


def report_text(report) -> str:
    lines = [f"Knowledge base updated: {report.summary()}."]
    for item in report.items:
        if item.status == "failed":
            lines.append(f"✗ {item.source}: {item.reason}")
        elif item.key:
            lines.append(f"✓ `{item.key}` {item.status} ({item.chunks} chunks)")
    return render.notice("\n".join(lines))


class KnowledgeBase(commands.Cog):
    """Moderators: add, remove and restore documents; see the audit history and unanswered questions."""

    kb = app_commands.Group(name="kb", description="Moderate the knowledge base (moderators only)",
                            guild_only=True, default_permissions=checks.MODERATOR_DEFAULT_PERMISSIONS)

    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    async def _key_autocomplete(self, interaction: discord.Interaction, current: str):
        if not checks.member_is_moderator(interaction.user, self.bot.guild_settings(interaction.guild_id),
                                          interaction.permissions):
            return []
        docs = await self.bot.run_light(self.bot.engine.list_documents, None, True)
        needle = (current or "").lower()
        return [app_commands.Choice(name=render.clip(f"{d['key']} ({d['status']})", 100), value=d["key"][:100])
                for d in docs if needle in d["key"].lower()][:25]

    @kb.command(name="add", description="Add a document: an attachment, a URL, or pasted text")
    @app_commands.describe(protocol="Which protocol the document is about", title="Title (needed for pasted text)",
                           file="A .md, .txt, .html or .pdf file (up to 8 MB)", url="An http(s) link to ingest",
                           text="Pasted text (use with title)")
    @app_commands.autocomplete(protocol=protocol_autocomplete)
    @checks.is_moderator()
    async def add(self, interaction: discord.Interaction, protocol: str, title: str | None = None,
                  file: discord.Attachment | None = None, url: str | None = None, text: str | None = None) -> None:
        given = [x for x in (file, url, text) if x]
        if len(given) != 1:
            raise BadInputError("Give exactly one of `file`, `url` or `text`.")
        if file is not None:
            check_attachment(file.filename, file.size)
        if text is not None and not (title or "").strip():
            raise BadInputError("Pasted text needs a `title`.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        engine, who = self.bot.engine, actor(interaction.user)
        if file is not None:
            data = await file.read()
            check_attachment(file.filename, len(data))
            report = await self.bot.run_engine(engine.ingest_bytes, data, file.filename, who, protocol=protocol,
                                               title=title or "")
        elif url is not None:
            report = await self.bot.run_engine(engine.ingest, [url.strip()], who, protocol=protocol, title=title)
        else:
            report = await self.bot.run_engine(engine.ingest_text, text, title, who, protocol=protocol)
        log.info("kb add by %s: %s", who, report.summary())
        await interaction.followup.send(report_text(report), ephemeral=True)

    @kb.command(name="remove", description="Remove a document (it can be restored)")
    @app_commands.describe(key="The document key (see /kb list)")
    @app_commands.autocomplete(key=_key_autocomplete)
    @checks.is_moderator()
    async def remove(self, interaction: discord.Interaction, key: str) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self.bot.run_engine(self.bot.engine.remove, key, actor(interaction.user))
        await interaction.followup.send(f"Removed `{render.clip(key, 200)}` (restore with `/kb restore`).",
                                        ephemeral=True)

    @kb.command(name="restore", description="Restore a removed document, or an earlier version of one")
    @app_commands.describe(key="The document key", version="Bring back this version's text")
    @app_commands.autocomplete(key=_key_autocomplete)
    @checks.is_moderator()
    async def restore(self, interaction: discord.Interaction, key: str,
                      version: app_commands.Range[int, 1] | None = None) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        said = await self.bot.run_engine(self.bot.engine.restore, key, actor(interaction.user), version)
        await interaction.followup.send(render.notice(f"Done: {said or 'restored ' + key}."), ephemeral=True)

    @kb.command(name="list", description="List the documents in the knowledge base")
    @app_commands.describe(protocol="Only this protocol", removed="Include removed documents")
    @app_commands.autocomplete(protocol=protocol_autocomplete)
    @checks.is_moderator()
    async def list_(self, interaction: discord.Interaction, protocol: str | None = None,
                   removed: bool = False) -> None:
        docs = await self.bot.run_light(self.bot.engine.list_documents, protocol or None, removed)
        lines = [f"`{d['key']}` {d['protocol'] or '-'} · {d['title']} · v{d['version']} · {d['chunk_count']} chunks"
                 + (" · removed" if d["status"] != "active" else "") for d in docs]
        embed = discord.Embed(title=f"Knowledge base: {len(docs)} documents", color=render.COLOR_ANSWER,
                              description=render.lines_field(lines, limit=4000))
        await interaction.response.send_message(embed=render.fit(embed), ephemeral=True)

    @kb.command(name="history", description="The audit log: who changed what, when")
    @app_commands.describe(key="Only this document")
    @checks.is_moderator()
    async def history(self, interaction: discord.Interaction, key: str | None = None) -> None:
        rows = await self.bot.run_light(self.bot.engine.history, key or None, 30)
        lines = [f"{r['at']} · {r['actor']} · {r['action']} {('`' + r['document_key'] + '`') if r['document_key'] else ''}"
                 for r in rows]
        embed = discord.Embed(title="Audit history" + (f": {key}" if key else ""), color=render.COLOR_ANSWER,
                              description=render.lines_field(lines, limit=4000))
        await interaction.response.send_message(embed=render.fit(embed), ephemeral=True)

    @kb.command(name="gaps", description="Questions the bot could not answer, most asked first")
    @checks.is_moderator()
    async def gaps(self, interaction: discord.Interaction) -> None:
        rows = await self.bot.run_light(self.bot.engine.gaps, 30)
        lines = [f"×{r['count']} {r['question']}" + (f" ({r['protocol']})" if r.get("protocol") else "")
                 for r in rows]
        embed = discord.Embed(title="Knowledge gaps", color=render.COLOR_ANSWER,
                              description=render.lines_field(lines, limit=4000) if lines else "No gaps logged.")
        await interaction.response.send_message(embed=render.fit(embed), ephemeral=True)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(KnowledgeBase(bot))
