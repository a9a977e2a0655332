"""The router: a command registered twice fails at start; unknown commands are named briefly."""

from __future__ import annotations

import pytest

from bot.chat import Command, Reply
from bot.router import CommandTable, Deps, Param, ParamKind, Router
from handlers import build_router
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


def test_every_parameter_is_described_in_both_languages_within_discords_limits() -> None:
    for spec in build_router().specs():
        for param in spec.params:
            # Discord: option names 1-32 lower-case characters, descriptions 1-100.
            assert param.name.islower()
            assert 1 <= len(param.name) <= 32
            for language in ("id", "en"):
                description = spec.param_description(param, language)
                assert 1 <= len(description) <= 100, (spec.name, param.name, language)
                assert not description.startswith("cmd."), (spec.name, param.name)


def test_a_command_with_usage_declares_its_parameters() -> None:
    # Every command that takes arguments must say which, or Discord could not ask for them.
    for spec in build_router().specs():
        if spec.usage_key is not None:
            assert spec.params, f"/{spec.name} has a usage line but no declared parameters"


def test_a_parameter_declared_twice_fails_at_start() -> None:
    router = Router()
    with pytest.raises(ValueError, match="declares a parameter twice"):
        router.command("x", params=(Param("a"), Param("a", ParamKind.INTEGER)))


def test_typed_values_are_written_back_as_the_text_a_reader_would_type() -> None:
    table = build_router()
    breaking = table.get("breaking")
    correct = table.get("correct")
    latest = table.get("latest")
    subscribe = table.get("subscribe")
    assert breaking
    assert correct
    assert latest
    assert subscribe
    assert (
        breaking.text_args(
            {"headline": "Gempa  di Laut", "text": "Warga diminta tenang.", "section": "nasional"}
        )
        == "#nasional Gempa di Laut | Warga diminta tenang."
    )
    assert (
        breaking.text_args({"headline": "A", "text": "B", "link": "https://kabar.test/a"})
        == "A | B | https://kabar.test/a"
    )
    assert correct.text_args({"id": 42, "headline": "Baru", "text": "Isi"}) == "42 Baru | Isi"
    assert latest.text_args({"query": "nato", "section": None}) == "nato"
    assert latest.text_args({"query": "nato", "section": "internasional"}) == (
        "internasional nato"
    )
    # The channel is where the command is aimed, never part of its text.
    assert subscribe.text_args({"section": "ekonomi", "channel": "123"}) == "ekonomi"


@pytest.mark.parametrize(
    ("name", "values", "typed"),
    [
        ("latest", {"section": "internasional", "query": "nato"}, "/latest internasional nato"),
        ("read", {"id": 1}, "/read 1"),
        ("subscribe", {"section": "ekonomi"}, "/subscribe ekonomi"),
        ("unfollow", {}, "/unfollow"),
        ("lang", {"language": "en"}, "/lang en"),
    ],
)
async def test_typed_values_get_the_answer_the_typed_text_gets(
    platform: FakePlatform, name: str, values: dict[str, object], typed: str
) -> None:
    spec = build_router().get(name)
    assert spec is not None
    from_options = await platform.say_text(f"/{name} {spec.text_args(values)}", chat="1")
    from_text = await platform.say_text(typed, chat="2")
    assert from_options == from_text
