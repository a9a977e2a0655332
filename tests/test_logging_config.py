"""The log: one record per line (text or JSON), naming its platform and chat, and secrets never
reach it, whatever logs them."""

from __future__ import annotations

import contextlib
import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.app import App
from bot.delivery.errors import ChatGone
from bot.logging_config import (
    JsonFormatter,
    SecretRedactor,
    TextFormatter,
    chat_fields,
    configure_logging,
    logging_redirected,
    platform_fields,
    redact_also,
)
from bot.settings import Settings
from storage.models import ChatRef, Platform
from tests.adapters.fake_bot_api import FakeBotApi
from tests.adapters.telegram_harness import running_bot, telegram_settings
from tests.support import START, FakePlatform, draft

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


def test_records_go_to_the_file_alone_while_redirected_then_back(
    log_output: io.StringIO, tmp_path: Path
) -> None:
    logger = logging.getLogger("tests.redirect")
    log_file = tmp_path / "newsbot.log"
    settings = Settings(_env_file=None, telegram_token=SecretStr(TOKEN))  # type: ignore[call-arg]  # pydantic-settings' init-only option
    redact_also("made-at-start")

    with logging_redirected(settings, log_file):
        logger.info("refused /breaking with token %s and %s", TOKEN, "made-at-start")
    logger.info("after the chat")

    written = log_file.read_text(encoding="utf-8")
    assert "INFO tests.redirect: refused /breaking with token [secret] and [secret]" in written
    assert "after the chat" not in written
    assert "refused /breaking" not in log_output.getvalue()
    assert "after the chat" in log_output.getvalue()


def test_a_log_file_that_cannot_be_opened_changes_nothing(
    log_output: io.StringIO, tmp_path: Path
) -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]  # pydantic-settings' init-only option
    handlers = logging.getLogger().handlers[:]

    with pytest.raises(IsADirectoryError), logging_redirected(settings, tmp_path):
        pass

    assert logging.getLogger().handlers == handlers
    logging.getLogger("tests.redirect").info("still here")
    assert "still here" in log_output.getvalue()


# One record per line, in text and in JSON --------------------------------------------------


@contextlib.contextmanager
def _service_logging(log_format: str) -> Iterator[io.StringIO]:
    """The process's log as `newsbot run` sets it up, in `log_format`, with a token set."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    stream = io.StringIO()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]  # pydantic-settings' init-only option
        telegram_token=SecretStr(TOKEN),
        log_format=log_format,
    )
    configure_logging(settings, stream)
    try:
        yield stream
    finally:
        root.handlers[:], root.level = saved
        logging.getLogger("httpx").setLevel(logging.NOTSET)


@pytest.fixture(params=["text", "json"])
def log_format(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def service_log(log_format: str) -> Iterator[io.StringIO]:
    with _service_logging(log_format) as stream:
        yield stream


def _fail_with_the_token() -> None:
    raise RuntimeError(f"POST /bot{TOKEN}/sendMessage:\nConnection reset")


def test_a_record_with_a_traceback_is_one_line_of_text() -> None:
    with _service_logging("text") as stream:
        try:
            _fail_with_the_token()
        except RuntimeError:
            logging.getLogger("bot.delivery.scheduler").exception(
                "delivering outbox row %d failed",
                7,
                extra=chat_fields(ChatRef(Platform.TELEGRAM, "-1001234")),
            )

    [line] = stream.getvalue().splitlines()
    assert (
        " ERROR bot.delivery.scheduler [telegram:-1001234]: delivering outbox row 7 failed" in line
    )
    assert "failed\\nTraceback (most recent call last):\\n  File " in line
    assert line.endswith("RuntimeError: POST /bot[secret]/sendMessage:\\nConnection reset")


def test_a_line_break_in_a_message_cannot_pass_for_a_record_of_its_own(
    service_log: io.StringIO, log_format: str
) -> None:
    # A feed's error text, say, that tries to look like a second record.
    forged = "bad feed\n2026-12-01 10:00:00,000 CRITICAL bot.app: all tokens revoked"
    logging.getLogger("bot.ingest.poller").warning("polling failed: %s", forged)

    [line] = service_log.getvalue().splitlines()
    if log_format == "json":
        assert json.loads(line)["message"] == f"polling failed: {forged}"
    else:
        assert line.endswith(
            "polling failed: bad feed\\n2026-12-01 10:00:00,000 CRITICAL "
            "bot.app: all tokens revoked"
        )


def test_json_lines_parse_and_carry_platform_chat_and_exception() -> None:
    before = datetime.now(UTC)
    with _service_logging("json") as stream:
        logger = logging.getLogger("bot.delivery.outcomes")
        logger.info(
            "the chat is gone (%s): deactivating its subscriptions",
            "bot was blocked by the user",
            extra=chat_fields(ChatRef(Platform.TELEGRAM, "31337")),
        )
        logger.warning("Discord refuses every request", extra=platform_fields(Platform.DISCORD))
        try:
            _fail_with_the_token()
        except RuntimeError:
            logging.getLogger("bot.app").exception("a pass failed")

    gone, refused, failed = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert gone == {
        "time": gone["time"],
        "level": "INFO",
        "logger": "bot.delivery.outcomes",
        "message": "the chat is gone (bot was blocked by the user): deactivating its "
        "subscriptions",
        "platform": "telegram",
        "chat": "31337",
    }
    written = datetime.fromisoformat(gone["time"])
    assert written.utcoffset() == timedelta(0)
    assert before - timedelta(seconds=1) <= written <= datetime.now(UTC)
    assert (refused["platform"], "chat" in refused) == ("discord", False)
    assert failed["exception"].startswith("Traceback (most recent call last):\n")
    assert failed["exception"].endswith(
        "RuntimeError: POST /bot[secret]/sendMessage:\nConnection reset"
    )
    assert "platform" not in failed


def test_a_token_in_a_message_or_a_traceback_is_redacted_in_both_formats(
    service_log: io.StringIO,
) -> None:
    logger = logging.getLogger("bot.adapters.telegram.adapter")
    logger.warning("POST https://api.telegram.org/bot%s/getMe refused", TOKEN)
    try:
        _fail_with_the_token()
    except RuntimeError:
        logger.exception("sending failed", extra=chat_fields(ChatRef(Platform.TELEGRAM, "5")))

    written = service_log.getvalue()
    assert TOKEN not in written
    assert TOKEN.split(":")[1] not in written
    assert written.count("/bot[secret]/") == 2
    assert len(written.splitlines()) == 2


async def test_a_delivery_record_names_its_platform_and_chat(
    app: App, platform: FakePlatform, caplog: pytest.LogCaptureFixture
) -> None:
    await app.storage.subscriptions.subscribe(
        ChatRef(Platform.TELEGRAM, "10"), ["nasional"], now=START
    )
    platform.failures = {"10": [ChatGone("bot was blocked by the user")]}
    await app.deps.newsroom.publish([draft("Jalan tol baru dibuka")])

    with caplog.at_level(logging.INFO, logger="bot.delivery"):
        await app.delivery_worker(platform).deliver_due()

    [record] = [r for r in caplog.records if "is gone" in r.getMessage()]
    assert (getattr(record, "platform", None), getattr(record, "chat", None)) == (
        "telegram",
        "10",
    )
    assert (
        TextFormatter()
        .format(record)
        .endswith(
            " INFO bot.delivery.outcomes [telegram:10]: the chat is gone (bot was blocked by the "
            "user): deactivating its subscriptions"
        )
    )
    assert json.loads(JsonFormatter().format(record))["chat"] == "10"


async def test_an_adapter_record_names_its_platform_and_chat(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_bot(telegram_settings(settings), FakeBotApi()) as tg:
        tg.api.refuse_photos = True
        article = await tg.app.storage.articles.get(
            await tg.publish("Foto banjir di Semarang", image_url="https://berita.example/b.jpg")
        )
        assert article is not None
        with caplog.at_level(logging.INFO, logger="bot.adapters.telegram"):
            await tg.adapter.send(
                ChatRef(Platform.TELEGRAM, "31337"), tg.app.deps.renderer.push(article, "id")
            )

    [record] = [r for r in caplog.records if "photo refused" in r.getMessage()]
    assert (getattr(record, "platform", None), getattr(record, "chat", None)) == (
        "telegram",
        "31337",
    )
