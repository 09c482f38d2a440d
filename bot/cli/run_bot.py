"""`compute-desk bot`: run the Discord bot. The token comes only from DISCORD_TOKEN (environment or `.env`)
and is never printed or logged; a missing or rejected token gets one line saying what to do.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import sys

log = logging.getLogger(__name__)

MISSING_TOKEN = ("error: DISCORD_TOKEN is not set. Create a bot at https://discord.com/developers/applications "
                 "(Bot -> Reset Token), then `export DISCORD_TOKEN=...` or put DISCORD_TOKEN=... in .env "
                 "(see docs/discord.md).")
BAD_TOKEN = ("error: Discord rejected DISCORD_TOKEN. Reset it in the Developer Portal (your application -> Bot -> "
             "Reset Token) and update DISCORD_TOKEN in the environment or .env.")
MALFORMED_TOKEN = ("error: DISCORD_TOKEN does not look like a bot token (it contains spaces or quotes). "
                   "Paste the token alone, without 'Bot ' or quotes.")
INTENT_MISSING = ("error: the Message Content intent is not enabled for this bot. Enable it in the Developer "
                  "Portal (Bot -> Privileged Gateway Intents), or run `compute-desk bot --no-mentions` "
                  "(slash commands work without it).")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bot", help="run the Discord bot (DISCORD_TOKEN from the environment or .env)",
                       description="Example: DISCORD_TOKEN=... DISCORD_GUILD_ID=123 compute-desk bot")
    p.add_argument("--shards", metavar="N|auto", help="run sharded (AutoShardedBot): a shard count or 'auto'")
    p.add_argument("--no-mentions", action="store_true",
                   help="do not ask for the Message Content intent (mentions and DMs are then not answered)")
    p.set_defaults(func=run)


def parse_shards(value: str | None, default: int = 0) -> int:
    """'auto' -> -1, 'N' -> N (>= 1), None -> the settings' value."""
    from knowledge.errors import BadInputError

    if value is None:
        return default
    if value.strip().lower() == "auto":
        return -1
    try:
        count = int(value)
    except ValueError:
        count = 0
    if count < 1:
        raise BadInputError("--shards takes a positive number or 'auto'")
    return count


def token_problem(token: str) -> str | None:
    """The one-line message for a missing or obviously malformed token, else None."""
    if not token:
        return MISSING_TOKEN
    if any(c.isspace() for c in token) or token[0] in "\"'" or token.lower().startswith("bot "):
        return MALFORMED_TOKEN
    return None


def explain(exc: BaseException) -> str | None:
    """A one-line message for a start-up failure the user can fix (never containing the token)."""
    import discord

    if isinstance(exc, discord.LoginFailure):
        return BAD_TOKEN
    if isinstance(exc, discord.PrivilegedIntentsRequired):
        return INTENT_MISSING
    if isinstance(exc, discord.HTTPException) and exc.status == 401:
        return BAD_TOKEN
    if isinstance(exc, (OSError, asyncio.TimeoutError)):
        return "error: cannot reach Discord (network down or blocked); check the connection and try again."
    return None


async def serve(bot, token: str) -> None:
    async with bot:
        await bot.start(token)


def run(args: argparse.Namespace) -> int:
    from knowledge.config import load_settings

    settings = load_settings()
    problem = token_problem(settings.discord_token)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    shards = parse_shards(args.shards, settings.discord_shards)

    from bot.discord_bot import create_bot
    from knowledge.engine import open_engine

    if not args.verbose:
        logging.getLogger("bot").setLevel(logging.INFO)
        logging.getLogger("discord").setLevel(logging.WARNING)
        if not logging.getLogger().handlers:
            logging.basicConfig(format="%(levelname)s %(name)s: %(message)s")
        for handler in logging.getLogger().handlers:
            handler.setLevel(logging.INFO)
    engine = open_engine(args.db)
    bot_settings = dataclasses.replace(engine.settings, discord_shards=shards)
    bot = create_bot(engine, bot_settings, message_content=not args.no_mentions)
    try:
        asyncio.run(serve(bot, settings.discord_token))
    except KeyboardInterrupt:
        return 0
    except Exception as exc:  # noqa: BLE001 - a known cause gets one line; anything else is re-raised
        message = explain(exc)
        if message is None:
            raise
        log.debug("start-up failed: %s", type(exc).__name__)
        print(message, file=sys.stderr)
        return 2
    return 0
