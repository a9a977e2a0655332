"""The chat commands, platform-free; `build_router` includes every handlers module explicitly."""

from __future__ import annotations

from bot.router import CommandTable
from handlers import (
    admin,
    chat_settings,
    help,
    identity,
    news,
    sections,
    sources,
    subscriptions,
)


def build_router() -> CommandTable:
    """Every command of the bot; a command name registered twice fails here, at start."""
    return CommandTable(
        [
            help.router,
            news.router,
            sections.router,
            subscriptions.router,
            chat_settings.router,
            identity.router,
            admin.router,
            sources.router,
        ]
    )
