"""Process logging: one record per line (text or JSON), quiet HTTP clients, and secrets never
written out.

A service's log is read line by line (journald, grep, a log collector), so a record never
spans lines: in the text format a traceback and any line break in a message are written as
`\\n` on the record's own line; the JSON format is one object per line. Records about one
chat carry it as `extra=chat_fields(chat)` (or the platform alone, `platform_fields`), shown as
`[telegram:-1001234]` in the text and as `platform` and `chat` keys in JSON.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, TextIO

from bot.settings import Settings
from storage.models import ChatRef, Platform

REDACTED = "[secret]"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s%(where)s: %(message)s"
# These log every request URL at INFO, and a Bot API URL holds the bot's token.
_CHATTY_CLIENTS = ("httpx", "httpcore")
# These warn about pages they find no article in ("discarding data"): the ingest report says
# that in its own words.
_EXTRACTION_LIBRARIES = ("trafilatura", "htmldate", "courlan")


class SecretRedactor(logging.Filter):
    """Replaces each secret in a record's message (and traceback) with a placeholder."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = [secret for secret in secrets if secret]

    @property
    def secrets(self) -> tuple[str, ...]:
        """The secrets this filter redacts."""
        return tuple(self._secrets)

    def add(self, secret: str) -> None:
        """Redact `secret` too from now on."""
        if secret and secret not in self._secrets:
            self._secrets.append(secret)

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record so that no secret is left in what the handler formats."""
        try:
            message = record.getMessage()
        except Exception:
            # A malformed log call: logging's own error report says so; let it through.
            return True
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        for secret in self._secrets:
            message = message.replace(secret, REDACTED)
            if record.exc_text:
                record.exc_text = record.exc_text.replace(secret, REDACTED)
            if record.stack_info:
                record.stack_info = record.stack_info.replace(secret, REDACTED)
        record.msg, record.args = message, None
        return True


def chat_fields(chat: ChatRef) -> dict[str, str]:
    """The `extra=` of a record about one chat: its platform and id."""
    return {"platform": chat.platform.value, "chat": chat.chat_id}


def platform_fields(platform: Platform) -> dict[str, str]:
    """The `extra=` of a record about one platform."""
    return {"platform": platform.value}


# Line breaks (and other control characters: a terminal's escape sequences) inside a record.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\u2028\u2029]")


def _escaped(match: re.Match[str]) -> str:
    return match.group().encode("unicode_escape").decode("ascii")


class TextFormatter(logging.Formatter):
    """`time LEVEL logger [platform:chat]: message`, on one line whatever it holds."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        """The record on one line: line breaks in it, its traceback's too, become `\\n`."""
        platform, chat = _fields(record)
        if platform and chat:
            record.where = f" [{platform}:{chat}]"
        else:
            record.where = f" [{platform}]" if platform else ""
        return _CONTROL.sub(_escaped, super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per record, per line: time (ISO 8601, UTC), level, logger, message, and
    platform, chat and exception when the record has them."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        line: dict[str, str] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        platform, chat = _fields(record)
        if platform:
            line["platform"] = platform
        if chat:
            line["chat"] = chat
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        # json escapes every control character but these two, which some readers take as
        # line breaks.
        text = json.dumps(line, ensure_ascii=False)
        return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _fields(record: logging.LogRecord) -> tuple[str | None, str | None]:
    """The record's platform and chat, given as `extra=` fields."""
    platform, chat = getattr(record, "platform", None), getattr(record, "chat", None)
    return (str(platform) if platform else None, str(chat) if chat else None)


def configure_logging(settings: Settings, stream: TextIO) -> None:
    """Log at the configured level to `stream`, with the settings' secrets redacted."""
    handler = _prepared(
        logging.StreamHandler(stream), _settings_secrets(settings), settings.log_format
    )
    logging.basicConfig(level=settings.log_level, handlers=[handler], force=True)
    for name in _CHATTY_CLIENTS:
        logging.getLogger(name).setLevel(
            max(logging.WARNING, logging.getLevelName(settings.log_level))
        )
    for name in _EXTRACTION_LIBRARIES:
        logging.getLogger(name).setLevel(
            max(logging.ERROR, logging.getLevelName(settings.log_level))
        )


@contextlib.contextmanager
def logging_redirected(settings: Settings, destination: Path | TextIO) -> Iterator[None]:
    """Inside the block, log records go to `destination` alone: a file (appended) or a stream.

    The handlers it replaces come back on exit. Everything they redacted, and the settings'
    secrets, is redacted here too. Opening the file raises `OSError` before anything changes.
    """
    if isinstance(destination, Path):
        handler: logging.Handler = logging.FileHandler(destination, encoding="utf-8")
    else:
        handler = logging.StreamHandler(destination)
    root = logging.getLogger()
    replaced = root.handlers[:]
    known = [
        secret
        for old in replaced
        for log_filter in old.filters
        if isinstance(log_filter, SecretRedactor)
        for secret in log_filter.secrets
    ]
    root.handlers[:] = [
        _prepared(handler, [*_settings_secrets(settings), *known], settings.log_format)
    ]
    try:
        yield
    finally:
        root.handlers[:] = replaced
        handler.close()


def _settings_secrets(settings: Settings) -> list[str]:
    return [
        token.get_secret_value()
        for token in (
            settings.telegram_token,
            settings.discord_token,
            settings.telegram_webhook_secret,
        )
        if token is not None
    ]


def _prepared(
    handler: logging.Handler, secrets: Iterable[str], log_format: Literal["text", "json"]
) -> logging.Handler:
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(SecretRedactor(secrets))
    return handler


def redact_also(secret: str) -> None:
    """Keep a secret made while running (a generated webhook secret) out of the log too."""
    for handler in logging.getLogger().handlers:
        for log_filter in handler.filters:
            if isinstance(log_filter, SecretRedactor):
                log_filter.add(secret)
