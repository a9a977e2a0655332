"""The one formatter of settings errors: a line per bad value, the setting named, no secret."""

from __future__ import annotations

import json
from pathlib import Path

import pydantic
import pytest
from pydantic_settings import SettingsError

from bot.settings import Settings
from bot.settings_loader import (
    InvalidSettingsError,
    describe_settings_error,
    describe_validation_error,
    load_settings,
    setting_name,
    unknown_setting_warnings,
)

TOKEN = "918273:AAF-rahasiaTokenUji_x9"  # noqa: S105 - a made-up token that must never be shown
SECTION_UMUM = {"slug": "umum", "name_id": "Umum", "name_en": "General"}
SECTION_BREAKING = {"slug": "breaking", "name_id": "Berita Terkini", "name_en": "Breaking News"}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No NEWSBOT_ variable of the developer's shell leaks into these tests."""
    for key in list(__import__("os").environ):
        if key.upper().startswith("NEWSBOT_"):
            monkeypatch.delenv(key)


def _problems(monkeypatch: pytest.MonkeyPatch, **env: str) -> list[str]:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(InvalidSettingsError) as raised:
        load_settings(env_file=None)
    return list(raised.value.problems)


def _load(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return load_settings(env_file=None)


def _fragments(secret: str, length: int = 5) -> set[str]:
    return {secret[start : start + length] for start in range(len(secret) - length + 1)}


def test_invalid_json_in_sections_names_the_setting_and_where(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = '[{"slug": "umum", "name_id": "Umum" "name_en": "General"}]'
    with pytest.raises(json.JSONDecodeError) as json_error:
        json.loads(text)

    assert _problems(monkeypatch, NEWSBOT_SECTIONS=text) == [
        f"NEWSBOT_SECTIONS: is not valid JSON ({json_error.value})"
    ]
    assert "line 1 column 37" in str(json_error.value)


@pytest.mark.parametrize(
    ("env", "line"),
    [
        ({"NEWSBOT_LANGUAGE": "fr"}, "NEWSBOT_LANGUAGE: 'fr' must be 'id' or 'en'"),
        (
            {"NEWSBOT_TELEGRAM_WEBHOOK_PORT": "delapan"},
            "NEWSBOT_TELEGRAM_WEBHOOK_PORT: 'delapan' is not a whole number",
        ),
        (
            {"NEWSBOT_TELEGRAM_WEBHOOK_PORT": "70000"},
            "NEWSBOT_TELEGRAM_WEBHOOK_PORT: '70000' must be at most 65535",
        ),
        (
            {"NEWSBOT_DELIVERY_MAX_ATTEMPTS": "0"},
            "NEWSBOT_DELIVERY_MAX_ATTEMPTS: '0' must be at least 1",
        ),
        (
            {"NEWSBOT_PUSH_MAX_AGE_HOURS": "sehari"},
            "NEWSBOT_PUSH_MAX_AGE_HOURS: 'sehari' is not a number",
        ),
        (
            {"NEWSBOT_TELEGRAM_SENDS_PER_SECOND": "0"},
            "NEWSBOT_TELEGRAM_SENDS_PER_SECOND: '0' must be more than 0",
        ),
        (
            {"NEWSBOT_LOG_LEVEL": "VERBOSE"},
            "NEWSBOT_LOG_LEVEL: 'VERBOSE' must be 'DEBUG', 'INFO', 'WARNING', 'ERROR' or "
            "'CRITICAL'",
        ),
        (
            {"NEWSBOT_TIMEZONE": "Asia/Bandung"},
            "NEWSBOT_TIMEZONE: unknown time zone 'Asia/Bandung' (try Asia/Jakarta)",
        ),
        (
            {"NEWSBOT_ADMINS": "telegram:1,redaksi"},
            "NEWSBOT_ADMINS: admin 'redaksi' must be platform:user_id with platform one of "
            "console, discord, telegram (e.g. telegram:123456789); send /whoami to the bot to "
            "learn the id",
        ),
        (
            {"NEWSBOT_ADMINS": "telegram:@alice"},
            "NEWSBOT_ADMINS: admin 'telegram:@alice' must be telegram: and the user's numeric "
            "id (e.g. telegram:123456789), not a @username or a name; send /whoami to the bot "
            "to learn the id",
        ),
        (
            {"NEWSBOT_ADMINS": "console:local, discord:bob"},
            "NEWSBOT_ADMINS: admin 'discord:bob' must be discord: and the user's numeric id "
            "(e.g. discord:123456789), not a @username or a name; send /whoami to the bot to "
            "learn the id",
        ),
        (
            {"NEWSBOT_ADMINS": "console:redaksi pusat"},
            "NEWSBOT_ADMINS: admin 'console:redaksi pusat' must be console: and a name without "
            "spaces (e.g. console:local)",
        ),
        *(
            (
                {"NEWSBOT_TELEGRAM_WEBHOOK_URL": url},
                f"NEWSBOT_TELEGRAM_WEBHOOK_URL: {url!r} must be an https:// URL on port 443, "
                "80, 88 or 8443, the only ones Telegram posts to (no port means 443)",
            )
            # Telegram refuses each of these at setWebhook: refused here, before anything starts.
            for url in (
                "news.example.org/hook",
                "http://news.example.org/hook",
                "https://news.example.org:8080/hook",
                "https://news.example.org:0/hook",
                "https://news.example.org:99999/hook",
                "https://news.example.org:delapan/hook",
                "https:///hook",
            )
        ),
    ],
)
def test_each_bad_value_is_one_line_naming_its_setting(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], line: str
) -> None:
    assert _problems(monkeypatch, **env) == [line]


@pytest.mark.parametrize(
    "url",
    [
        "https://news.example.org/telegram",
        "https://news.example.org:443/telegram",
        "https://news.example.org:80/telegram",
        "https://news.example.org:88/telegram",
        "https://news.example.org:8443/telegram",
        "https://203.0.113.7:8443/",
    ],
)
def test_a_webhook_url_telegram_accepts_is_taken_as_it_is(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    assert _load(monkeypatch, NEWSBOT_TELEGRAM_WEBHOOK_URL=url).telegram_webhook_url == url


def test_several_bad_settings_give_a_line_each_and_no_part_of_the_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    problems = _problems(
        monkeypatch,
        NEWSBOT_TELEGRAM_TOKEN=TOKEN,
        NEWSBOT_LANGUAGE="jawa",
        NEWSBOT_TIMEZONE="WIB",
        NEWSBOT_DELIVERY_MAX_ATTEMPTS="banyak",
    )

    assert [line.split(":")[0] for line in problems] == [
        "NEWSBOT_LANGUAGE",
        "NEWSBOT_TIMEZONE",
        "NEWSBOT_DELIVERY_MAX_ATTEMPTS",
    ]
    text = "\n".join(problems)
    assert not {fragment for fragment in _fragments(TOKEN) if fragment in text}
    assert "pydantic" not in text
    assert "http" not in text  # no documentation links


def test_a_bad_secret_is_named_but_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "Qz7 rahasia!"  # noqa: S105 - made up; spaces and '!' are not allowed
    problems = _problems(monkeypatch, NEWSBOT_TELEGRAM_WEBHOOK_SECRET=secret)

    assert problems == [
        "NEWSBOT_TELEGRAM_WEBHOOK_SECRET: the webhook secret must be 1-256 of A-Z, a-z, 0-9, "
        "'_' and '-'"
    ]
    assert not {fragment for fragment in _fragments(secret, 4) if fragment in problems[0]}


def test_a_check_across_settings_never_shows_their_values() -> None:
    # pydantic hands a model-wide check the whole input, tokens included.
    error = pydantic.ValidationError.from_exception_data(
        "Settings",
        [
            {
                "type": "value_error",
                "loc": (),
                "input": {"telegram_token": TOKEN},
                "ctx": {"error": ValueError("the settings disagree")},
            }
        ],
    )

    assert describe_validation_error(error) == ["settings: the settings disagree"]


def test_section_errors_say_which_section(monkeypatch: pytest.MonkeyPatch) -> None:
    sections = [
        SECTION_UMUM,
        {"slug": "Bad Slug", "name_id": "Buruk", "name_en": "Bad"},
        {"slug": "olahraga", "name_id": "Olahraga", "alias": ["bola"]},
        "ekonomi",
        {"slug": "teknologi", "name_id": 5, "name_en": "Technology", "aliases": ["tekno", 7]},
        SECTION_BREAKING,
    ]

    assert _problems(monkeypatch, NEWSBOT_SECTIONS=json.dumps(sections)) == [
        "NEWSBOT_SECTIONS: section 2: slug 'Bad Slug' must be lower-case letters, digits and "
        "'-' (e.g. dalam-negeri)",
        "NEWSBOT_SECTIONS: section 3: name_en: is missing",
        "NEWSBOT_SECTIONS: section 3: alias: is not a key of a section (a section has slug, "
        "name_id, name_en, aliases)",
        "NEWSBOT_SECTIONS: section 4: 'ekonomi' must be a JSON object",
        "NEWSBOT_SECTIONS: section 5: name_id: 5 must be text",
        "NEWSBOT_SECTIONS: section 5: aliases: item 2: 7 must be text",
    ]


def test_sections_must_be_a_list(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _problems(monkeypatch, NEWSBOT_SECTIONS='{"slug": "umum"}') == [
        "NEWSBOT_SECTIONS: {'slug': 'umum'} must be a JSON list"
    ]


@pytest.mark.parametrize(
    ("env", "line"),
    [
        (
            {"NEWSBOT_SECTIONS": json.dumps([SECTION_UMUM])},
            "NEWSBOT_SECTIONS: has no section with the slug 'breaking', which /breaking stories "
            "go to",
        ),
        (
            {"NEWSBOT_SECTIONS": json.dumps([SECTION_UMUM, SECTION_UMUM, SECTION_BREAKING])},
            "NEWSBOT_SECTIONS: two sections have the slug 'umum'; each needs its own",
        ),
        (
            {
                "NEWSBOT_SECTIONS": json.dumps([SECTION_UMUM, SECTION_BREAKING]),
                "NEWSBOT_BREAKING_DEFAULT_SECTION": "umum",
                "NEWSBOT_FALLBACK_SECTION": "lainnya",
            },
            "NEWSBOT_FALLBACK_SECTION: 'lainnya' is not one of the sections in NEWSBOT_SECTIONS "
            "(umum, breaking)",
        ),
        (
            {"NEWSBOT_SECTIONS": json.dumps([SECTION_UMUM, SECTION_BREAKING])},
            "NEWSBOT_BREAKING_DEFAULT_SECTION: 'nasional' is not one of the sections in "
            "NEWSBOT_SECTIONS (umum, breaking)",
        ),
        (
            {"NEWSBOT_BREAKING_DEFAULT_SECTION": "sihir"},
            "NEWSBOT_BREAKING_DEFAULT_SECTION: 'sihir' is not one of the sections in "
            "NEWSBOT_SECTIONS (internasional, nasional, ekonomi, olahraga, teknologi, hiburan, "
            "kesehatan, umum, breaking)",
        ),
    ],
)
def test_checks_across_settings_name_the_wrong_one(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], line: str
) -> None:
    assert _problems(monkeypatch, **env) == [line]


def test_empty_values_unset_what_can_be_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _load(
        monkeypatch,
        NEWSBOT_TELEGRAM_TOKEN="",
        NEWSBOT_DISCORD_TOKEN="",
        NEWSBOT_TELEGRAM_API_URL="",
        NEWSBOT_TELEGRAM_WEBHOOK_URL=" ",
        NEWSBOT_TELEGRAM_WEBHOOK_SECRET="",
        NEWSBOT_ADMINS="",
    )

    assert settings.telegram_token is None
    assert settings.discord_token is None
    assert settings.telegram_api_url is None
    assert settings.telegram_webhook_url is None
    assert settings.telegram_webhook_secret is None
    assert settings.admins == frozenset()


@pytest.mark.parametrize(
    ("name", "line"),
    [
        (
            "NEWSBOT_LANGUAGE",
            "NEWSBOT_LANGUAGE: is empty; remove the line to use the default (id)",
        ),
        (
            "NEWSBOT_TELEGRAM_WEBHOOK_PORT",
            "NEWSBOT_TELEGRAM_WEBHOOK_PORT: is empty; remove the line to use the default (8080)",
        ),
        ("NEWSBOT_SECTIONS", "NEWSBOT_SECTIONS: is empty; remove the line to use the default"),
        (
            "NEWSBOT_DATABASE",
            "NEWSBOT_DATABASE: is empty; remove the line to use the default (newsbot.db)",
        ),
    ],
)
def test_an_empty_value_of_a_needed_setting_says_how_to_get_the_default(
    monkeypatch: pytest.MonkeyPatch, name: str, line: str
) -> None:
    assert _problems(monkeypatch, **{name: ""}) == [line]


def test_every_setting_empty_is_unset_or_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Whatever settings are added later: an empty value never gives a traceback or a
    # message about something else.
    for field, info in Settings.model_fields.items():
        name = setting_name(field)
        with monkeypatch.context() as patch:
            patch.setenv(name, "")
            if info.default is None or info.default == frozenset():
                assert getattr(load_settings(env_file=None), field) == info.default, name
                continue
            with pytest.raises(InvalidSettingsError) as raised:
                load_settings(env_file=None)
        shown = f" ({info.default})" if isinstance(info.default, str | int | float) else ""
        assert raised.value.problems == (
            f"{name}: is empty; remove the line to use the default{shown}",
        )


def test_a_relative_database_path_is_made_absolute_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)

    assert _load(monkeypatch, NEWSBOT_DATABASE="data/berita.db").database == str(
        tmp_path / "data" / "berita.db"
    )
    assert _load(monkeypatch, NEWSBOT_DATABASE="../berita.db").database == str(
        tmp_path.parent / "berita.db"
    )
    assert _load(monkeypatch, NEWSBOT_DATABASE=str(tmp_path / "x.db")).database == str(
        tmp_path / "x.db"
    )
    monkeypatch.setenv("HOME", str(tmp_path / "rumah"))
    assert _load(monkeypatch, NEWSBOT_DATABASE="~/berita.db").database == str(
        tmp_path / "rumah" / "berita.db"
    )
    url = "postgresql://127.0.0.1/berita"
    assert _load(monkeypatch, NEWSBOT_DATABASE=url).database == url


def test_a_long_value_is_cut_in_the_message(monkeypatch: pytest.MonkeyPatch) -> None:
    [line] = _problems(monkeypatch, NEWSBOT_LANGUAGE="indonesia" * 50)

    assert line.startswith("NEWSBOT_LANGUAGE: 'indonesiaindonesia")
    assert "…" in line
    assert len(line) < 120


def test_a_value_pydantic_settings_cannot_read_names_its_setting() -> None:
    error = SettingsError(
        'error parsing value for field "sections" from source "EnvSettingsSource"'
    )
    error.__cause__ = ValueError("bad value")

    assert describe_settings_error(error) == "NEWSBOT_SECTIONS: cannot be read (bad value)"
    assert describe_settings_error(SettingsError("something else")) == "settings: something else"


def test_an_env_file_that_is_not_utf8_is_a_problem_not_a_traceback(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_bytes(b"NEWSBOT_LANGUAGE=b\xe9tawi\n")

    with pytest.raises(InvalidSettingsError) as raised:
        load_settings(env_file=env_file)

    [line] = raised.value.problems
    assert line.startswith(f"{env_file}: cannot be read (")
    assert "utf-8" in line


def test_unknown_keys_get_a_warning_naming_the_closest_setting(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "NEWSBOT_LANGUAGE=en\nNEWSBOT_TIMEZON=Asia/Makassar\nNEWSBOT_CUACA=cerah\nOTHER=1\n",
        encoding="utf-8",
    )
    environ = {"NEWSBOT_TELEGRAM_TOKN": TOKEN, "newsbot_language": "id", "PATH": "/bin"}

    assert unknown_setting_warnings(environ, env_file) == [
        "NEWSBOT_TELEGRAM_TOKN (in the environment) is not a setting and is ignored; did you "
        "mean NEWSBOT_TELEGRAM_TOKEN?",
        f"NEWSBOT_TIMEZON (in {env_file}) is not a setting and is ignored; did you mean "
        "NEWSBOT_TIMEZONE?",
        f"NEWSBOT_CUACA (in {env_file}) is not a setting and is ignored; see .env.example",
    ]


def test_known_keys_get_no_warning(tmp_path: Path) -> None:
    environ = {setting_name(field): "x" for field in Settings.model_fields}

    assert unknown_setting_warnings(environ, tmp_path / "missing.env") == []
