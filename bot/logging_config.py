"""Process logging: one format, quiet HTTP clients, and secrets never written out."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TextIO

from bot.settings import Settings

REDACTED = "[secret]"
# These log every request URL at INFO, and a Bot API URL holds the bot's token.
_CHATTY_CLIENTS = ("httpx", "httpcore")


class SecretRedactor(logging.Filter):
    """Replaces each secret in a record's message (and traceback) with a placeholder."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = [secret for secret in secrets if secret]

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
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    secrets = [
        token.get_secret_value()
        for token in (
            settings.telegram_token,
            settings.discord_token,
            settings.telegram_webhook_secret,
        )
        if token is not None
    ]
    handler.addFilter(SecretRedactor(secrets))
    logging.basicConfig(level=settings.log_level, handlers=[handler], force=True)
    for name in _CHATTY_CLIENTS:
        logging.getLogger(name).setLevel(
            max(logging.WARNING, logging.getLevelName(settings.log_level))
        )


def redact_also(secret: str) -> None:
    """Keep a secret made while running (a generated webhook secret) out of the log too."""
    for handler in logging.getLogger().handlers:
        for log_filter in handler.filters:
            if isinstance(log_filter, SecretRedactor):
                log_filter.add(secret)
