"""A small Bot-API-compatible HTTP server on 127.0.0.1, answering from a `FakeBotApi`.

What a self-hosted Bot API server is to `NEWSBOT_TELEGRAM_API_URL`: `newsbot run` in another
process talks real HTTP to it, as it would to Telegram. The API's `send_latency`, `send_delays`
and `hung_chats` hold each answer back in the request's own thread, so other requests go on
meanwhile; closing the server releases hung sends.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import re
import threading
from collections.abc import Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl

from tests.adapters.fake_bot_api import FakeBotApi

_PATH = re.compile(r"^/bot(?P<token>[^/]+)/(?P<method>\w+)$")
# The longest a getUpdates request is held open waiting for an update.
LONG_POLL_CAP_SECONDS = 1.0
# Answered at once, to show that every connection made before it has been accepted.
_BARRIER_PATH = "/barrier"


class _CountingServer(ThreadingHTTPServer):
    """Counts the connections still being served, each in its thread, and the long polls
    among them (which wait for updates, with no send behind them)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.count_lock = threading.Lock()
        self.serving = 0
        self.long_polls = 0
        # Barrier connections, already counted out.
        self.uncounted: set[Any] = set()

    def process_request(self, request: Any, client_address: Any) -> None:
        # Counted here, in the accepting thread, before the connection's thread starts.
        with self.count_lock:
            self.serving += 1
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self.count_lock:
                if request in self.uncounted:
                    self.uncounted.remove(request)
                else:
                    self.serving -= 1

    def count_out(self, request: Any) -> None:
        """Not count this connection (a barrier) from now on."""
        with self.count_lock:
            self.uncounted.add(request)
            self.serving -= 1

    @contextlib.contextmanager
    def long_poll(self) -> Iterator[None]:
        """Count a long poll while it waits."""
        with self.count_lock:
            self.long_polls += 1
        try:
            yield
        finally:
            with self.count_lock:
                self.long_polls -= 1


class BotApiServer:
    """`with BotApiServer(api) as server:` serves `api` at `server.base_url` within the block."""

    def __init__(self, api: FakeBotApi) -> None:
        self.api = api
        self._server = _CountingServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        # Looking for a shutdown every 20 ms, not every 0.5 s: closing the server at the end of
        # each test would otherwise wait up to half a second.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base_url(self) -> str:
        """The value for NEWSBOT_TELEGRAM_API_URL."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/bot"

    def long_polls(self) -> int:
        """getUpdates requests waiting for an update now."""
        with self._server.count_lock:
            return self._server.long_polls

    def idle(self) -> bool:
        """Whether every request made so far has been read and answered (long polls aside).

        Connections are accepted in the order they were made: once a connection made now is
        answered, any made before it (by a process just killed, say) has been accepted and is
        counted until its thread has read all it was sent and ended.
        """
        host, port = self._server.server_address[:2]
        barrier = http.client.HTTPConnection(str(host), port, timeout=10)  # never a proxy
        try:
            barrier.request("GET", _BARRIER_PATH)
            barrier.getresponse().read()
        finally:
            barrier.close()
        server = self._server
        with server.count_lock:
            serving = server.serving - server.long_polls
        return serving == 0 and not self.api.awaiting_answer()

    def __enter__(self) -> BotApiServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.api.release_hung()  # so that no request thread is left waiting
        self._server.shutdown()
        self._server.server_close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        api = self.api

        class Handler(BaseHTTPRequestHandler):
            server: _CountingServer

            def do_GET(self) -> None:
                if self.path != _BARRIER_PATH:
                    self._reply(404, {"ok": False, "error_code": 404, "description": "Not Found"})
                    return
                self.server.count_out(self.request)
                self.close_connection = True
                self._reply(200, {"ok": True})

            def do_POST(self) -> None:
                match = _PATH.match(self.path)
                if match is None:
                    self._reply(404, {"ok": False, "error_code": 404, "description": "Not Found"})
                    return
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if len(raw) < length:
                    # The bot died while writing the request (a kill): Telegram acts on no
                    # half a request, and there is nobody left to answer.
                    self.close_connection = True
                    return
                body = raw.decode()
                if (
                    not self.headers.get("Content-Type", "").startswith(
                        "application/x-www-form-urlencoded"
                    )
                    and body
                ):
                    self._reply(400, {"ok": False, "error_code": 400, "description": "Bad body"})
                    return
                form = dict(parse_qsl(body, keep_blank_values=True))
                if match.group("method") == "getUpdates":
                    timeout = float(form.get("timeout") or 0)
                    with self.server.long_poll():
                        api.wait_for_updates(
                            int(form.get("offset") or 0), min(timeout, LONG_POLL_CAP_SECONDS)
                        )
                status, answer = api.handle(match.group("token"), match.group("method"), form)
                # Telegram has handled the request; its answer may be slow to come back.
                api.hold_answer(match.group("method"), form.get("chat_id"))
                self._reply(status, answer)

            def _reply(self, status: int, answer: dict[str, object]) -> None:
                payload = json.dumps(answer).encode()
                self.send_response(HTTPStatus(status))
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                try:
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    # The bot gave up a long poll as it stopped; Telegram would not mind either.
                    return

            def log_message(self, format: str, *args: object) -> None:
                return  # keep test output quiet

        return Handler
