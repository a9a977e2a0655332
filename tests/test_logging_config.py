"""Secrets never reach the log, whatever logs them."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from bot.logging_config import SecretRedactor, configure_logging, redact_also
from bot.settings import Settings

TOKEN = "424242:AAE-made-up-token"  # noqa: S105 - a made-up token


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    stream = io.StringIO()
    configure_logging(
        Settings(_env_file=None, telegram_token=SecretStr(TOKEN), log_level="DEBUG"),  # type: ignore[call-arg]  # pydantic-settings' init-only option
        stream,
    )
    yield stream
    root.handlers[:], root.level = saved
    logging.getLogger("httpx").setLevel(logging.NOTSET)


def test_a_token_in_a_message_or_a_traceback_is_redacted(log_output: io.StringIO) -> None:
    logger = logging.getLogger("tests.secret")
    logger.info("POST https://api.telegram.org/bot%s/getMe", TOKEN)
    try:
        raise RuntimeError(f"failed at /bot{TOKEN}/sendMessage")
    except RuntimeError:
        logger.exception("sending failed")

    written = log_output.getvalue()
    assert TOKEN not in written
    assert "bot[secret]/getMe" in written
    assert "failed at /bot[secret]/sendMessage" in written


def test_http_client_request_lines_are_not_logged_at_info(log_output: io.StringIO) -> None:
    logging.getLogger("httpx").info("HTTP Request: POST https://example/bot%s/getUpdates", "x")

    assert "HTTP Request" not in log_output.getvalue()


def test_a_malformed_log_call_passes_through_the_redactor_unchanged() -> None:
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "%s and %s", ("one",), None)

    # Left to logging, which reports "--- Logging error ---" instead of raising at the call.
    assert SecretRedactor([TOKEN]).filter(record)
    assert record.args == ("one",)


def test_a_secret_made_while_running_is_redacted_too(log_output: io.StringIO) -> None:
    redact_also("generated-webhook-secret")
    logging.getLogger("tests.secret").debug("setWebhook secret_token=generated-webhook-secret")

    assert "generated-webhook-secret" not in log_output.getvalue()
    assert "secret_token=[secret]" in log_output.getvalue()
