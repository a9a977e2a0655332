"""Process logging: one format, quiet HTTP clients, and secrets never written out."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TextIO

from bot.settings import Settings

REDACTED = "[secret]"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
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
        record.msg, record.args = message, None
        return True


def configure_logging(settings: Settings, stream: TextIO) -> None:
    """Log at the configured level to `stream`, with the settings' secrets redacted."""
    handler = _prepared(logging.StreamHandler(stream), _settings_secrets(settings))
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
    root.handlers[:] = [_prepared(handler, [*_settings_secrets(settings), *known])]
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


def _prepared(handler: logging.Handler, secrets: Iterable[str]) -> logging.Handler:
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.addFilter(SecretRedactor(secrets))
    return handler


def redact_also(secret: str) -> None:
    """Keep a secret made while running (a generated webhook secret) out of the log too."""
    for handler in logging.getLogger().handlers:
        for log_filter in handler.filters:
            if isinstance(log_filter, SecretRedactor):
                log_filter.add(secret)
