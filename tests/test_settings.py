"""Settings: every field is documented in .env.example, and bad values are refused clearly."""

from __future__ import annotations

import re
from pathlib import Path

import pydantic
import pytest

from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
ENV_EXAMPLE = ROOT / ".env.example"


def commented_examples() -> list[str]:
    """The `# NEWSBOT_NAME=value` lines of .env.example, without their `# `."""
    text = ENV_EXAMPLE.read_text(encoding="utf-8")
    return re.findall(r"^# (NEWSBOT_[A-Z_]+=.*)$", text, flags=re.MULTILINE)


def uncommented(line: str) -> str:
    """.env.example with one of its commented examples made real."""
    text = ENV_EXAMPLE.read_text(encoding="utf-8")
    assert text.count(f"# {line}\n") == 1
    return text.replace(f"# {line}\n", f"{line}\n")


def test_env_example_lists_every_setting() -> None:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    listed = set(re.findall(r"^#?\s*NEWSBOT_([A-Z_]+)=", text, flags=re.MULTILINE))
    assert listed == {name.upper() for name in Settings.model_fields}


def test_env_example_itself_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(__import__("os").environ):
        if key.startswith("NEWSBOT_"):
            monkeypatch.delenv(key)
    settings = Settings(_env_file=ROOT / ".env.example")
    assert settings.admins == frozenset({"console:local"})


def test_admins_are_split_and_checked() -> None:
    settings = Settings(_env_file=None, admins="telegram:1, discord:2")
    assert settings.admins == frozenset({"telegram:1", "discord:2"})
    with pytest.raises(pydantic.ValidationError, match="platform:user_id"):
        Settings(_env_file=None, admins="irc:1")


@pytest.mark.parametrize(
    ("admins", "refused"),
    [
        ("telegram:@alice", "'telegram:@alice' must be telegram: and the user's numeric id"),
        ("discord:bob", "'discord:bob' must be discord: and the user's numeric id"),
        ("telegram:", "'telegram:' must be telegram: and the user's numeric id"),
        ("discord:", "'discord:' must be discord: and the user's numeric id"),
        # A channel's id: an admin is a person, and a channel post carries no person's id.
        ("telegram:-1001987654321", "'telegram:-1001987654321' must be telegram: and"),
        ("telegram:١٢٣", "'telegram:١٢٣' must be telegram: and"),  # digits, but not ASCII ones
        ("console:", "'console:' must be console: and a name without spaces"),
        ("telegram:1, console:ruang redaksi", "'console:ruang redaksi' must be console:"),
        ("irc:1", "'irc:1' must be platform:user_id with platform one of"),
        ("@alice", "'@alice' must be platform:user_id with platform one of"),
    ],
)
def test_an_admin_that_could_never_match_is_refused_with_the_way_to_find_the_id(
    admins: str, refused: str
) -> None:
    with pytest.raises(pydantic.ValidationError) as raised:
        Settings(_env_file=None, admins=admins)
    [error] = raised.value.errors()
    assert error["loc"] == ("admins",)
    message = str(error["ctx"]["error"])
    assert message.startswith(f"admin {refused}"), message
    if not refused.startswith("'console:"):
        assert message.endswith("send /whoami to the bot to learn the id")


def test_numeric_ids_and_console_names_are_admins() -> None:
    settings = Settings(
        _env_file=None,
        admins="telegram:123, discord:80351110224678912, console:local, console:redaksi-pusat",
    )
    assert settings.admins == frozenset(
        {"telegram:123", "discord:80351110224678912", "console:local", "console:redaksi-pusat"}
    )


def test_secrets_are_not_shown() -> None:
    settings = Settings(_env_file=None, telegram_token="123:secret")  # noqa: S106 - a fake token
    assert "123:secret" not in repr(settings)


def test_sections_must_include_breaking_and_valid_slugs() -> None:
    with pytest.raises(pydantic.ValidationError, match="breaking"):
        Settings(_env_file=None, sections=[{"slug": "umum", "name_id": "U", "name_en": "G"}])
    with pytest.raises(pydantic.ValidationError, match="slug"):
        Settings(_env_file=None, sections=[{"slug": "Bad Slug", "name_id": "x", "name_en": "x"}])


def test_the_commented_examples_are_found() -> None:
    names = [line.partition("=")[0] for line in commented_examples()]
    assert "NEWSBOT_SECTIONS" in names
    assert "NEWSBOT_TELEGRAM_TOKEN" in names


@pytest.mark.parametrize("line", commented_examples(), ids=lambda line: line.partition("=")[0])
def test_each_commented_example_works_when_uncommented(
    line: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in list(__import__("os").environ):
        if key.startswith("NEWSBOT_"):
            monkeypatch.delenv(key)
    env_file = tmp_path / ".env"
    env_file.write_text(uncommented(line), encoding="utf-8")
    name, _, value = line.partition("=")
    field = name.removeprefix("NEWSBOT_").lower()

    before = getattr(Settings(_env_file=ENV_EXAMPLE), field)
    after = getattr(Settings(_env_file=env_file), field)

    if value:
        assert after != before, "the example must change the setting"
    else:
        assert after is None, "an empty example leaves the setting unset"
