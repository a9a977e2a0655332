"""Both UI languages say everything, with the same placeholders."""

from __future__ import annotations

import string

import pytest

from bot.i18n import MESSAGES, translate
from handlers import build_router


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _base_keys(language: str) -> set[str]:
    # `key:0`, `key:1`: a text for one exact count, which one language may need and another not.
    return {key for key in MESSAGES[language] if ":" not in key}


def test_every_text_exists_in_both_languages_with_the_same_placeholders() -> None:
    assert _base_keys("id") == _base_keys("en")
    for key in _base_keys("id"):
        assert _fields(MESSAGES["id"][key]) == _fields(MESSAGES["en"][key]), key


def test_a_text_for_one_count_belongs_to_a_text_and_asks_no_more() -> None:
    for catalogue in MESSAGES.values():
        for key, template in catalogue.items():
            base, colon, count = key.partition(":")
            if colon:
                assert count.isdigit(), key
                assert base in catalogue, key
                assert _fields(template) <= _fields(catalogue[base]), key


@pytest.mark.parametrize(
    ("language", "count", "expected"),
    [
        ("id", 0, "Berita terkini #5 disimpan di rubrik Nasional; belum ada chat yang "),
        ("id", 1, "Berita terkini #5 disimpan di rubrik Nasional dan akan dikirim ke 1 chat."),
        ("id", 3, "Berita terkini #5 disimpan di rubrik Nasional dan akan dikirim ke 3 chat."),
        ("en", 0, "Breaking story #5 stored in Nasional; no chat subscribes to it yet."),
        ("en", 1, "Breaking story #5 stored in Nasional and queued for 1 chat."),
        ("en", 2, "Breaking story #5 stored in Nasional and queued for 2 chats."),
    ],
)
def test_a_count_picks_the_text_written_for_it(language: str, count: int, expected: str) -> None:
    text = translate(language, "breaking.stored", id=5, section="Nasional", count=count)
    assert text.startswith(expected)
    assert "0 chat" not in text
    assert "(s)" not in text


def test_every_command_has_its_description_and_usage() -> None:
    for spec in build_router().specs():
        for language in ("id", "en"):
            assert spec.description_key in MESSAGES[language]
            if spec.usage_key:
                assert spec.usage_key in MESSAGES[language]
