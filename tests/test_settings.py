"""Settings: every field is documented in .env.example, and bad values are refused clearly."""

from __future__ import annotations

import re
from pathlib import Path

import pydantic
import pytest

from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


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


def test_secrets_are_not_shown() -> None:
    settings = Settings(_env_file=None, telegram_token="123:secret")  # noqa: S106 - a fake token
    assert "123:secret" not in repr(settings)


def test_sections_must_include_breaking_and_valid_slugs() -> None:
    with pytest.raises(pydantic.ValidationError, match="breaking"):
        Settings(_env_file=None, sections=[{"slug": "umum", "name_id": "U", "name_en": "G"}])
    with pytest.raises(pydantic.ValidationError, match="slug"):
        Settings(_env_file=None, sections=[{"slug": "Bad Slug", "name_id": "x", "name_en": "x"}])
