"""Reading the settings at start, and saying what is wrong with them.

The one place that turns settings errors into messages: each bad value becomes one line
`NEWSBOT_NAME: what is wrong`, with the value shown unless the setting is a secret, and with no
pydantic wording or links. A `NEWSBOT_` key that is no setting gets a warning naming the
closest real one.
"""

from __future__ import annotations

import contextlib
import difflib
import re
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import dotenv
import pydantic
import pydantic_settings
from pydantic import SecretStr

from bot.settings import SectionSetting, Settings

ENV_PREFIX = "NEWSBOT_"
ENV_FILE = Path(".env")

# Values longer than this are cut in messages: a whole NEWSBOT_SECTIONS JSON helps no one.
_SHOWN_VALUE_CHARS = 60


class InvalidSettingsError(Exception):
    """The settings cannot be used; `problems` holds one line per thing wrong."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = tuple(problems)


def load_settings(env_file: Path | None = ENV_FILE) -> Settings:
    """The settings from the environment and `env_file` (when it exists).

    Raises:
        InvalidSettingsError: one problem line per bad value; no secret in any of them.
    """
    try:
        # _env_file is pydantic-settings' init-only option, unknown to mypy's pydantic plugin.
        return Settings(_env_file=env_file)  # type: ignore[call-arg]
    except pydantic.ValidationError as error:
        raise InvalidSettingsError(describe_validation_error(error)) from error
    except pydantic_settings.SettingsError as error:
        raise InvalidSettingsError([describe_settings_error(error)]) from error
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidSettingsError([f"{env_file}: cannot be read ({error})"]) from error


def setting_name(field: str) -> str:
    """The environment variable of a Settings field: `language` → `NEWSBOT_LANGUAGE`."""
    return f"{ENV_PREFIX}{field.upper()}"


def is_secret(field: str) -> bool:
    """Whether a field holds a secret (a token), whose value is never shown."""
    info = Settings.model_fields.get(field)
    if info is None:
        return True  # not a field we know: show nothing rather than guess
    return SecretStr in (info.annotation, *typing.get_args(info.annotation))


def describe_validation_error(error: pydantic.ValidationError) -> list[str]:
    """One line per error: `NEWSBOT_NAME: what is wrong` (`: section 2: ...` inside sections)."""
    return [_describe(detail) for detail in error.errors(include_url=False)]


def describe_settings_error(error: pydantic_settings.SettingsError) -> str:
    """A line for pydantic-settings' own error (a value it could not even read)."""
    # Its message names the field: 'error parsing value for field "x" from source "..."'.
    found = re.search(r'field "(\w+)"', str(error))
    if found is None:
        return f"settings: {error}"
    cause = f" ({error.__cause__})" if error.__cause__ is not None else ""
    return f"{setting_name(found.group(1))}: cannot be read{cause}"


def unknown_setting_warnings(
    environ: Mapping[str, str], env_file: Path | None = ENV_FILE
) -> list[str]:
    """A warning for each `NEWSBOT_` key, in `environ` or `env_file`, that is not a setting."""
    known = {setting_name(field) for field in Settings.model_fields}
    keys = [(key, "the environment") for key in environ]
    if env_file is not None and env_file.is_file():
        # A file that cannot be read is load_settings' to report.
        with contextlib.suppress(OSError, UnicodeDecodeError):
            keys += [(key, str(env_file)) for key in dotenv.dotenv_values(env_file)]
    warnings = []
    for key, place in keys:
        name = key.upper()
        if not name.startswith(ENV_PREFIX) or name in known:
            continue
        suffixes = [setting.removeprefix(ENV_PREFIX) for setting in known]
        # Compared without the shared prefix, which would make every name look alike.
        close = difflib.get_close_matches(name.removeprefix(ENV_PREFIX), suffixes, n=1)
        hint = f"did you mean {ENV_PREFIX}{close[0]}?" if close else "see .env.example"
        warnings.append(f"{key} (in {place}) is not a setting and is ignored; {hint}")
    return warnings


def _describe(detail: Mapping[str, Any]) -> str:
    location = tuple(detail["loc"])
    if not location or not isinstance(location[0], str):
        # A check across settings that did not say which one it is about.
        return f"settings: {_problem(detail, shown=None, field=None)}"
    field, inner = location[0], location[1:]
    own_message = detail["type"] in ("value_error", "empty_setting", "invalid_json")
    if own_message and inner and isinstance(inner[-1], str):
        inner = inner[:-1]  # our own messages name the key they are about ("slug 'X' ...")
    labels = [_label(field, position, part) for position, part in enumerate(inner)]
    shown = None if is_secret(field) else detail.get("input")
    return ": ".join([setting_name(field), *labels, _problem(detail, shown=shown, field=field)])


def _label(field: str, position: int, part: str | int) -> str:
    """`section 2` for NEWSBOT_SECTIONS' second section, `item 2` in other lists, else keys."""
    if isinstance(part, int):
        is_section = field == "sections" and position == 0
        return f"section {part + 1}" if is_section else f"item {part + 1}"
    return part


def _problem(detail: Mapping[str, Any], *, shown: object, field: str | None) -> str:
    """What is wrong, in plain words; `shown` is the value to quote (None: quote nothing)."""
    kind = detail["type"]
    context = detail.get("ctx") or {}
    if kind == "value_error":
        return str(context.get("error", detail["msg"]))
    if kind in ("empty_setting", "invalid_json"):
        return str(detail["msg"])
    if kind == "missing":
        return "is missing"
    if kind == "extra_forbidden":
        if field != "sections":
            return "is not a known key"
        keys = ", ".join(SectionSetting.model_fields)
        return f"is not a key of a section (a section has {keys})"
    value = f"{_shown(shown)} " if shown is not None else ""
    phrases = {
        "literal_error": f"must be {context.get('expected')}",
        "int_parsing": "is not a whole number",
        "int_type": "is not a whole number",
        "int_from_float": "is not a whole number",
        "float_parsing": "is not a number",
        "float_type": "is not a number",
        "bool_parsing": "must be true or false",
        "string_type": "must be text",
        "greater_than": f"must be more than {_number(context.get('gt'))}",
        "greater_than_equal": f"must be at least {_number(context.get('ge'))}",
        "less_than": f"must be less than {_number(context.get('lt'))}",
        "less_than_equal": f"must be at most {_number(context.get('le'))}",
        "tuple_type": "must be a JSON list",
        "list_type": "must be a JSON list",
        "model_type": "must be a JSON object",
        "dict_type": "must be a JSON object",
    }
    phrase = phrases.get(kind, f"is not accepted ({_lower_first(str(detail['msg']))})")
    return f"{value}{phrase}"


def _number(limit: object) -> object:
    # A float field's limit 0.0 reads as 0 to an operator.
    return int(limit) if isinstance(limit, float) and limit.is_integer() else limit


def _shown(value: object) -> str:
    text = repr(value)
    if len(text) > _SHOWN_VALUE_CHARS:
        text = text[: _SHOWN_VALUE_CHARS - 1] + "…"
    return text


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]
