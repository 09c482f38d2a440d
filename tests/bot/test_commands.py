"""Every command documents itself, and every knowledge-base change is guarded on the server side."""

from __future__ import annotations

import asyncio

import discord

from bot.cli import build_parser
from bot.discord_bot import checks, create_bot
from bot.discord_bot.app import COGS


def _tree(engine):
    async def load():
        bot = create_bot(engine, engine.settings)
        for name in COGS:
            await bot.load_extension(f"bot.discord_bot.cogs.{name}")
        return bot

    return asyncio.run(load())


def test_every_command_and_option_has_a_description(engine):
    bot = _tree(engine)
    commands = list(bot.tree.walk_commands())
    assert {c.qualified_name for c in commands} >= {
        "ask", "compare", "metrics", "score", "kb", "kb add", "kb remove", "kb restore", "kb list", "kb history",
        "kb gaps", "config", "help", "about"}
    for command in commands:
        assert command.description and command.description != "…", command.qualified_name
        for param in getattr(command, "parameters", []):
            assert param.description and param.description != "…", f"{command.qualified_name} {param.name}"
    for cog in bot.cogs.values():
        assert cog.__doc__, cog


def _check_names(command) -> list[str]:
    return [getattr(c, "__qualname__", "") for c in command.checks]


def test_kb_and_config_are_guarded_by_checks_not_only_hidden(engine):
    bot = _tree(engine)
    kb = bot.tree.get_command("kb")
    assert kb.default_permissions == checks.MODERATOR_DEFAULT_PERMISSIONS and kb.guild_only
    for sub in kb.commands:
        assert any("is_moderator" in n for n in _check_names(sub)), sub.qualified_name
    config = bot.tree.get_command("config")
    assert any("is_admin" in n for n in _check_names(config))


def test_member_is_moderator_by_role_or_manage_server():
    class FakeRole:
        def __init__(self, rid):
            self.id = rid

    class M(discord.Member):  # only what member_is_moderator reads
        def __init__(self, roles):
            self._r = [FakeRole(r) for r in roles]

        @property
        def roles(self):
            return self._r

    none = discord.Permissions.none()
    assert not checks.member_is_moderator(M([]), {}, none)
    assert checks.member_is_moderator(M([]), {}, discord.Permissions(manage_guild=True))
    assert checks.member_is_moderator(M([]), {}, discord.Permissions(administrator=True))
    assert checks.member_is_moderator(M([42]), {"moderator_role": 42}, none)
    assert not checks.member_is_moderator(M([41]), {"moderator_role": 42}, none)
    assert not checks.member_is_moderator(object(), {"moderator_role": 42}, discord.Permissions.all())  # a DM user


def test_cooldowns_per_user():
    now = [100.0]
    cd = checks.Cooldowns(clock=lambda: now[0])
    assert cd.hit(1, 7, 10) == 0
    assert 9.9 < cd.hit(1, 7, 10) <= 10
    assert cd.hit(1, 8, 10) == 0  # another user
    now[0] += 10.5
    assert cd.hit(1, 7, 10) == 0
    assert cd.hit(1, 7, 0) == 0  # off


def test_cli_commands_bot_and_chat_have_help():
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, type(parser._subparsers._group_actions[0])))
    for name in ("bot", "chat"):
        p = sub.choices[name]
        assert p.description and "Example" in p.description
        assert any(a.help for a in sub._choices_actions if a.dest == name)
