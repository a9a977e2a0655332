"""The router: a command registered twice fails at start."""

from __future__ import annotations

import pytest

from bot.chat import Command, Reply
from bot.deps import Deps
from bot.router import CommandTable, Router


def test_a_duplicate_command_name_fails_at_start() -> None:
    first, second = Router(), Router()

    @first.command("latest")
    async def one(cmd: Command, deps: Deps) -> Reply:
        return Reply.text("one")

    @second.command("latest")
    async def two(cmd: Command, deps: Deps) -> Reply:
        return Reply.text("two")

    with pytest.raises(ValueError, match="/latest is registered twice"):
        CommandTable([first, second])
