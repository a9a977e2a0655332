"""Both UI languages say everything, with the same placeholders."""

from __future__ import annotations

import string

from bot.i18n import MESSAGES
from handlers import build_router


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_text_exists_in_both_languages_with_the_same_placeholders() -> None:
    assert MESSAGES["id"].keys() == MESSAGES["en"].keys()
    for key, template in MESSAGES["id"].items():
        assert _fields(template) == _fields(MESSAGES["en"][key]), key


def test_every_command_has_its_description_and_usage() -> None:
    for spec in build_router().specs():
        for language in ("id", "en"):
            assert spec.description_key in MESSAGES[language]
            if spec.usage_key:
                assert spec.usage_key in MESSAGES[language]
