"""Settings as an operator meets them: `newsbot` commands with a `.env` or variables.

A bad value is one `newsbot: NEWSBOT_NAME: ...` line and exit 2; an empty optional value is
unset; an unknown NEWSBOT_ key is a warning and the bot goes on.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.support import Newsbot
from tests.test_settings import commented_examples, uncommented

TOKEN = "918273:AAF-rahasiaTokenUji_x9"  # noqa: S105 - a made-up token that must never be shown


@pytest.fixture
def newsbot(tmp_path: Path) -> Newsbot:
    return Newsbot(tmp_path)


def _write_env(newsbot: Newsbot, text: str) -> None:
    (newsbot.directory / ".env").write_text(text, encoding="utf-8")


def _assert_refused(result: subprocess.CompletedProcess[str], *lines: str) -> None:
    """Exit 2 and exactly these lines on stderr: no traceback, no pydantic text."""
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [f"newsbot: {line}" for line in lines]
    assert result.stdout == ""


def test_invalid_json_in_sections_is_one_line(newsbot: Newsbot) -> None:
    result = newsbot(
        "chat", env={"NEWSBOT_SECTIONS": '[{"slug": "umum", "name_id": "Umum",}]'}, timeout=15
    )

    _assert_refused(
        result,
        "NEWSBOT_SECTIONS: is not valid JSON (Expecting property name enclosed in double "
        "quotes: line 1 column 37 (char 36))",
    )


def test_several_bad_settings_in_env_file_give_a_line_each_and_no_secret(
    newsbot: Newsbot,
) -> None:
    _write_env(
        newsbot,
        f"NEWSBOT_TELEGRAM_TOKEN={TOKEN}\n"
        "NEWSBOT_LANGUAGE=jawa\n"
        "NEWSBOT_TELEGRAM_WEBHOOK_SECRET=Qz7 rahasia!\n"
        "NEWSBOT_TELEGRAM_WEBHOOK_PORT=delapan\n"
        'NEWSBOT_SECTIONS=[{"slug": "Bad Slug", "name_id": "B", "name_en": "B"}, '
        '{"slug": "breaking", "name_id": "T", "name_en": "B"}]\n',
    )

    result = newsbot("run", timeout=15)

    _assert_refused(
        result,
        "NEWSBOT_TELEGRAM_WEBHOOK_SECRET: the webhook secret must be 1-256 of A-Z, a-z, 0-9, "
        "'_' and '-'",
        "NEWSBOT_TELEGRAM_WEBHOOK_PORT: 'delapan' is not a whole number",
        "NEWSBOT_LANGUAGE: 'jawa' must be 'id' or 'en'",
        "NEWSBOT_SECTIONS: section 1: slug 'Bad Slug' must be lower-case letters, digits and "
        "'-' (e.g. dalam-negeri)",
    )
    for secret in (TOKEN, "Qz7 rahasia!"):
        fragments = {secret[start : start + 4] for start in range(len(secret) - 3)}
        assert not {fragment for fragment in fragments if fragment in result.stderr}


def test_a_section_setting_that_does_not_match_the_sections(newsbot: Newsbot) -> None:
    sections = [
        {"slug": "umum", "name_id": "Umum", "name_en": "General"},
        {"slug": "breaking", "name_id": "Berita Terkini", "name_en": "Breaking News"},
    ]
    result = newsbot("chat", env={"NEWSBOT_SECTIONS": json.dumps(sections)}, timeout=15)

    _assert_refused(
        result,
        "NEWSBOT_BREAKING_DEFAULT_SECTION: 'nasional' is not one of the sections in "
        "NEWSBOT_SECTIONS (umum, breaking)",
    )


def test_an_admin_named_by_username_stops_the_start_with_the_way_to_find_the_id(
    newsbot: Newsbot,
) -> None:
    _write_env(newsbot, "NEWSBOT_ADMINS=console:local,telegram:@alice\n")

    _assert_refused(
        newsbot("run", timeout=15),
        "NEWSBOT_ADMINS: admin 'telegram:@alice' must be telegram: and the user's numeric id "
        "(e.g. telegram:123456789), not a @username or a name; send /whoami to the bot to "
        "learn the id",
    )


def test_a_piped_chat_answers_whoami_with_the_configured_admins_id(newsbot: Newsbot) -> None:
    _write_env(newsbot, "NEWSBOT_ADMINS=telegram:1,console:redaksi\n")

    shown = newsbot.chat("/whoami\n", "--user", "redaksi")

    assert shown.rstrip("\n") == (
        "Id Anda: console:redaksi\n"
        "Baris untuk .env bot: NEWSBOT_ADMINS=console:redaksi\n\n"
        "Anda admin bot: NEWSBOT_ADMINS memuat id ini."
    )


def test_empty_optional_values_in_env_file_are_unset(newsbot: Newsbot) -> None:
    # As .env.example's commented lines invite: uncommented with nothing after the '='.
    _write_env(
        newsbot,
        "NEWSBOT_TELEGRAM_TOKEN=\nNEWSBOT_TELEGRAM_API_URL=\nNEWSBOT_DISCORD_TOKEN=\n"
        "NEWSBOT_TELEGRAM_WEBHOOK_SECRET=\nNEWSBOT_ADMINS=\n",
    )

    result = newsbot("run", stdin="/breaking Gempa | Gempa M5 di Garut.\n", timeout=30)

    assert result.returncode == 0, result.stderr
    # No Telegram, no Discord: the console, and no other line of newsbot's own.
    assert [line for line in result.stderr.splitlines() if line.startswith("newsbot:")] == [
        line for line in result.stderr.splitlines() if "no platform token is set" in line
    ]
    assert "no platform token is set" in result.stderr
    assert "Hanya admin bot" in result.stdout  # NEWSBOT_ADMINS= means no admins


def test_an_empty_needed_value_says_how_to_get_the_default(newsbot: Newsbot) -> None:
    _write_env(newsbot, "NEWSBOT_LANGUAGE=\n")

    _assert_refused(
        newsbot("chat", timeout=15),
        "NEWSBOT_LANGUAGE: is empty; remove the line to use the default (id)",
    )


def test_an_unknown_key_is_a_warning_and_the_bot_goes_on(newsbot: Newsbot) -> None:
    _write_env(newsbot, "NEWSBOT_LANGUAGE=en\nNEWSBOT_TIMEZON=Asia/Makassar\n")

    result = newsbot("chat", stdin="/sections\n", env={"NEWSBOT_ADMIN": "console:local"})

    assert result.returncode == 0, result.stderr
    assert [line for line in result.stderr.splitlines() if "newsbot:" in line] == [
        "newsbot: warning: NEWSBOT_ADMIN (in the environment) is not a setting and is ignored; "
        "did you mean NEWSBOT_ADMINS?",
        "newsbot: warning: NEWSBOT_TIMEZON (in .env) is not a setting and is ignored; did you "
        "mean NEWSBOT_TIMEZONE?",
    ]
    assert "International" in result.stdout  # and NEWSBOT_LANGUAGE=en from the same file holds


@pytest.mark.parametrize("line", commented_examples(), ids=lambda line: line.partition("=")[0])
def test_each_commented_example_of_env_example_runs(newsbot: Newsbot, line: str) -> None:
    _write_env(newsbot, uncommented(line))

    result = newsbot("chat", stdin="/sections\n")

    assert result.returncode == 0, result.stderr
    assert "newsbot:" not in result.stderr  # no warning, no error
    assert "Traceback" not in result.stderr
    assert "Internasional" in result.stdout
    if line.startswith("NEWSBOT_SECTIONS="):
        assert "Ekonomi" not in result.stdout  # the example's own sections, not the defaults
