"""Webhook mode: Telegram posts updates to the bot's own HTTP server, checked by secret."""

from __future__ import annotations

import asyncio
import logging
import socket

import httpx
import pytest
from pydantic import SecretStr

from bot.platform import PlatformStartError
from bot.settings import Settings
from tests.adapters.fake_bot_api import FakeBotApi, wait_until
from tests.adapters.telegram_harness import running_bot, telegram_settings

READER = 8801
SECRET = "rahasia_webhook-123"  # noqa: S105 - a made-up webhook secret
PUBLIC_URL = "https://berita.example/telegram/hook"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _update(update_id: int, text: str) -> dict[str, object]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": 10 + update_id,
            "date": 1764000000,
            "chat": {"id": READER, "type": "private"},
            "from": {"id": READER, "is_bot": False, "first_name": "Pembaca"},
            "text": text,
            "entities": [
                {"type": "bot_command", "offset": 0, "length": len(text.split(maxsplit=1)[0])}
            ],
        },
    }


async def _post(port: int, update: dict[str, object], secret: str) -> int:
    """POST an update as Telegram does; the HTTP status (retrying until the server is up)."""
    async with httpx.AsyncClient() as client:
        for _ in range(100):
            try:
                response = await client.post(
                    f"http://127.0.0.1:{port}/telegram/hook",
                    json=update,
                    headers={"X-Telegram-Bot-Api-Secret-Token": secret},
                )
            except httpx.ConnectError:
                await asyncio.sleep(0.05)
                continue
            return response.status_code
    raise AssertionError("the webhook server never came up")


async def test_webhook_updates_with_the_secret_are_answered(settings: Settings) -> None:
    api = FakeBotApi()
    port = _free_port()
    configured = telegram_settings(
        settings,
        telegram_webhook_url=PUBLIC_URL,
        telegram_webhook_secret=SecretStr(SECRET),
        telegram_webhook_listen="127.0.0.1",
        telegram_webhook_port=port,
    )
    async with running_bot(configured, api):
        [registered] = api.of_method("setWebhook")
        assert registered.params["url"] == PUBLIC_URL
        assert registered.params["secret_token"] == SECRET
        assert "message" in registered.params["allowed_updates"]

        forged = await _post(port, _update(1, "/subscribe nasional"), "salah")
        accepted = await _post(port, _update(2, "/sections"), SECRET)
        await wait_until(lambda: len(api.texts(READER)) >= 1)

    assert forged == 403
    assert accepted == 200
    [answer] = api.texts(READER)
    assert "Internasional" in answer  # the /sections answer; the forged command did nothing
    assert not api.of_method("getUpdates")


async def test_a_webhook_port_already_taken_is_a_clear_start_error(settings: Settings) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        configured = telegram_settings(
            settings, telegram_webhook_url=PUBLIC_URL, telegram_webhook_port=port
        )
        with pytest.raises(PlatformStartError, match="cannot receive Telegram updates"):
            async with running_bot(configured, FakeBotApi()):
                pass


async def test_a_webhook_telegram_refuses_is_one_clear_start_error_and_no_traceback(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    # What Telegram answers for a public name it cannot resolve (settings refuse the rest).
    api = FakeBotApi(webhook_refusal="Bad Request: bad webhook: Failed to resolve host")
    configured = telegram_settings(
        settings, telegram_webhook_url=PUBLIC_URL, telegram_webhook_port=_free_port()
    )
    with (
        caplog.at_level(logging.DEBUG),
        pytest.raises(
            PlatformStartError,
            match=r"^cannot receive Telegram updates: Bad webhook: failed to resolve host$",
        ),
    ):
        async with running_bot(configured, api):
            pass

    assert len(api.of_method("setWebhook")) == 1
    # The start error says it all: nothing was logged with a traceback before it.
    assert [record.getMessage() for record in caplog.records if record.exc_info] == []
