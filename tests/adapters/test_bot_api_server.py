"""The tests' Bot API server itself: answers held back (latency, hung chats), and requests cut
short by a dying client, which other tests rely on."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from telegram import Bot

from tests.adapters.bot_api_server import BotApiServer
from tests.adapters.fake_bot_api import TOKEN, FakeBotApi, FakeBotRequest
from tests.support import Newsbot

READER = 61001
OTHER = 61002


def _send(server: BotApiServer, chat_id: int, text: str) -> dict[str, Any]:
    """sendMessage over HTTP, as the bot sends it; the Bot API's JSON answer."""
    request = urllib.request.Request(  # noqa: S310 - the test's own server on 127.0.0.1
        f"{server.base_url}{TOKEN}/sendMessage",
        data=urlencode({"chat_id": chat_id, "text": text}).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - as above
        return json.loads(answer.read())  # type: ignore[no-any-return]


def _in_background(
    server: BotApiServer, chat_id: int, answers: list[dict[str, Any]]
) -> threading.Thread:
    thread = threading.Thread(target=lambda: answers.append(_send(server, chat_id, "Halo")))
    thread.start()
    return thread


def test_a_hung_chat_takes_the_message_but_answers_only_when_released() -> None:
    api = FakeBotApi()
    api.hung_chats.add(READER)
    answers: list[dict[str, Any]] = []
    with BotApiServer(api) as server:
        waiting = _in_background(server, READER, answers)
        deadline = time.monotonic() + 10
        while api.awaiting_answer(READER) == 0 and time.monotonic() < deadline:
            time.sleep(0.01)

        # Taken (it counts as sent) and unanswered, while other chats are answered at once.
        assert api.awaiting_answer(READER) == 1
        assert api.texts(READER) == ["Halo"]
        assert _send(server, OTHER, "Lain")["ok"] is True
        waiting.join(0.3)
        assert waiting.is_alive()

        api.release_hung()
        waiting.join(10)
    assert not waiting.is_alive()
    assert answers[0]["ok"] is True
    assert api.awaiting_answer() == 0


def test_closing_the_server_releases_a_hung_send() -> None:
    api = FakeBotApi()
    api.hung_chats.add(READER)
    answers: list[dict[str, Any]] = []
    with BotApiServer(api) as server:
        waiting = _in_background(server, READER, answers)
        deadline = time.monotonic() + 10
        while api.awaiting_answer(READER) == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
    waiting.join(10)
    assert not waiting.is_alive()
    assert api.awaiting_answer() == 0


def test_sends_answer_after_the_latency_and_are_counted_while_they_wait() -> None:
    api = FakeBotApi(send_latency=0.3)
    answers: list[dict[str, Any]] = []
    with BotApiServer(api) as server:
        started = time.monotonic()
        threads = [_in_background(server, chat, answers) for chat in (READER, OTHER)]
        for thread in threads:
            thread.join(10)
        took = time.monotonic() - started

    assert [answer["ok"] for answer in answers] == [True, True]
    assert took >= 0.3
    # Both were held at once, each in its own request thread.
    assert api.most_awaiting_answer == 2
    assert api.awaiting_answer() == 0


def test_a_chats_own_delay_overrides_the_latency() -> None:
    api = FakeBotApi(send_latency=5.0)
    api.send_delays[READER] = 0.0
    with BotApiServer(api) as server:
        started = time.monotonic()
        assert _send(server, READER, "Cepat")["ok"] is True
    # Generous: proves the 5 s latency was not applied, not how fast the server is.
    assert time.monotonic() - started < 4.0


def test_the_server_is_idle_only_once_every_request_made_is_read_and_answered() -> None:
    """What crash trials wait for after a kill: a request still being written, or one whose
    answer is held back, keeps the server busy; a long poll waiting for updates does not."""
    api = FakeBotApi()
    api.hung_chats.add(READER)
    answers: list[dict[str, Any]] = []
    with BotApiServer(api) as server:
        assert server.idle()
        address = urlsplit(server.base_url)
        body = urlencode({"chat_id": OTHER, "text": "Belum utuh"}).encode()
        with socket.create_connection((address.hostname, address.port), timeout=5) as client:
            client.sendall(
                f"POST /bot{TOKEN}/sendMessage HTTP/1.1\r\n"
                f"Host: 127.0.0.1\r\n"
                f"Content-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body[: len(body) // 2]
            )
            assert not server.idle()  # its request is not whole yet
        _until(server.idle)  # the server read to the end of it, and ended the connection
        long_poll = urllib.request.Request(  # noqa: S310 - the test's own server on 127.0.0.1
            f"{server.base_url}{TOKEN}/getUpdates",
            data=urlencode({"timeout": 1}).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        # Held open for up to a second, waiting for updates.
        polling = threading.Thread(target=urllib.request.urlopen, args=(long_poll,))
        polling.start()
        _until(lambda: server.long_polls() == 1)
        assert server.idle()  # a long poll has no send behind it
        waiting = _in_background(server, READER, answers)
        _until(lambda: api.awaiting_answer(READER) == 1)
        assert not server.idle()  # a send whose answer is held back
        api.release_hung()
        waiting.join(10)
        assert server.idle()
        api.message_update(OTHER, "/start")  # ends the long poll
        polling.join(10)
    assert answers[0]["ok"] is True


def _until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "never came true"
        time.sleep(0.01)


def test_a_request_cut_short_by_a_dying_client_is_not_acted_on() -> None:
    api = FakeBotApi()
    with BotApiServer(api) as server:
        address = urlsplit(server.base_url)
        body = urlencode({"chat_id": READER, "text": "Terpotong di tengah jalan"}).encode()
        with socket.create_connection((address.hostname, address.port), timeout=5) as client:
            client.sendall(
                f"POST /bot{TOKEN}/sendMessage HTTP/1.1\r\n"
                f"Host: 127.0.0.1\r\n"
                f"Content-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body[: len(body) // 2]
            )
        # A whole request after it is served; the cut one never was.
        assert _send(server, OTHER, "Utuh")["ok"] is True
        _until(server.idle)  # the cut request's thread has read what there was, and ended
    assert api.texts() == ["Utuh"]
    assert [call.method for call in api.calls] == ["sendMessage"]


async def test_the_in_process_transport_holds_a_hung_send_until_released() -> None:
    api = FakeBotApi()
    api.hung_chats.add(READER)
    async with Bot(TOKEN, request=FakeBotRequest(api)) as bot:
        sending = asyncio.create_task(bot.send_message(READER, "Halo"))
        await asyncio.sleep(0.2)
        assert not sending.done()
        assert api.awaiting_answer(READER) == 1

        api.release_hung()
        message = await asyncio.wait_for(sending, timeout=5)
    assert message.text == "Halo"
    assert api.awaiting_answer() == 0


def test_newsbot_start_can_write_its_output_to_a_file(tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    process = Newsbot(tmp_path).start("--version", output=log)
    assert process.wait(timeout=60) == 0
    assert process.stdout is None
    assert "newsbot" in log.read_text(encoding="utf-8")
