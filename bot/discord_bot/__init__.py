"""The Discord adapter: turns Discord events into engine calls and results into messages (no business logic)."""

from bot.discord_bot.app import create_bot

__all__ = ["create_bot"]
