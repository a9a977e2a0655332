"""The router: a command registered twice fails at start; unknown commands are named briefly."""

from __future__ import annotations

import pytest

from bot.chat import Command, Reply
from bot.deps import Deps
from bot.router import CommandTable, Router
from tests.support import FakePlatform


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


async def test_an_unknown_command_is_named_back_at_most_40_characters(
    platform: FakePlatform,
) -> None:
    name = "berita" + "x" * 500
    text = await platform.say_text(f"/{name}")
    shown = text.removeprefix("Perintah /").removesuffix(
        " tidak dikenal. Ketik /help untuk daftar perintah."
    )
    assert shown == name[:39] + "…"
    assert len(shown) == 40


async def test_an_unknown_command_of_40_characters_is_named_whole(platform: FakePlatform) -> None:
    name = "b" * 40
    assert await platform.say_text(f"/{name}") == (
        f"Perintah /{name} tidak dikenal. Ketik /help untuk daftar perintah."
    )


async def test_an_unknown_command_is_named_without_control_characters(
    platform: FakePlatform,
) -> None:
    text = await platform.say_text("/bad\x07na\u202eme\x00 now")
    assert text.startswith("Perintah /badname tidak dikenal.")
