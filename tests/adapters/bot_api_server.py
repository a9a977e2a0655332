"""A small Bot-API-compatible HTTP server on 127.0.0.1, answering from a `FakeBotApi`.

What a self-hosted Bot API server is to `NEWSBOT_TELEGRAM_API_URL`: `newsbot run` in another
process talks real HTTP to it, as it would to Telegram. The API's `send_latency`, `send_delays`
and `hung_chats` hold each answer back in the request's own thread, so other requests go on
meanwhile; closing the server releases hung sends.
"""

from __future__ import annotations

import json
import re
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qsl

from tests.adapters.fake_bot_api import FakeBotApi

_PATH = re.compile(r"^/bot(?P<token>[^/]+)/(?P<method>\w+)$")
# The longest a getUpdates request is held open waiting for an update.
LONG_POLL_CAP_SECONDS = 1.0


class BotApiServer:
    """`with BotApiServer(api) as server:` serves `api` at `server.base_url` within the block."""

    def __init__(self, api: FakeBotApi) -> None:
        self.api = api
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        """The value for NEWSBOT_TELEGRAM_API_URL."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/bot"

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
