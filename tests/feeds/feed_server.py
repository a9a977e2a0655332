"""A publisher's web server on 127.0.0.1 for polling tests: feeds with ETag and Last-Modified,
article pages, and feeds that misbehave on purpose (slow, failing, rate limiting, redirecting in
a loop, endless)."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

from bot.ingest.poller import next_slot
from storage.models import Feed


@dataclass
class Item:
    """One story in a served feed."""

    title: str
    link: str | None = None
    guid: str | None = None
    body: str = "Isi berita."
    published: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass
class Route:
    """What one path serves: a feed of items, an HTML page (`html`), or a misbehaviour."""

    items: list[Item] = field(default_factory=list)
    title: str = "Kabar Uji"
    site: str = "https://kabar.example/"  # the feed's own <link>
    status: int | None = None  # answer this status instead (500, 429, 503...)
    retry_after: str | None = None
    redirect_to: str | None = None
    hang: float = 0.0  # seconds to wait before answering
    endless: bool = False  # stream bytes forever (a 50 MB+ body)
    conditional: bool = True  # honour If-None-Match / If-Modified-Since
    html: str | None = None  # serve this article page (text/html) instead of a feed

    def rss(self) -> bytes:
        entries = []
        for item in self.items:
            parts = [f"<title>{escape(item.title)}</title>"]
            if item.link:
                parts.append(f"<link>{escape(item.link)}</link>")
            if item.guid is not None:
                parts.append(f'<guid isPermaLink="false">{escape(item.guid)}</guid>')
            parts.append(f"<description>{escape(item.body)}</description>")
            parts.append(f"<pubDate>{format_datetime(item.published)}</pubDate>")
            entries.append(f"<item>{''.join(parts)}</item>")
        return (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>{escape(self.title)}</title><link>{escape(self.site)}</link>"
            f"{''.join(entries)}</channel></rss>"
        ).encode()


class FeedServer:
    """`with FeedServer() as server:` serves `server.routes[path]` on 127.0.0.1."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.answered: list[tuple[str, int]] = []
        self.connections = 0
        self._server: ThreadingHTTPServer | None = None
        self._stopping = threading.Event()

    def url(self, path: str) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    def requests_to(self, path: str) -> list[dict[str, str]]:
        return [headers for requested, headers in self.requests if requested == path]

    def statuses(self, path: str) -> list[int]:
        return [status for requested, status in self.answered if requested == path]

    def __enter__(self) -> FeedServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                owner.connections += 1
                super().setup()

            def log_message(self, format: str, *args: object) -> None:
                return

            def do_GET(self) -> None:
                headers = {name.lower(): value for name, value in self.headers.items()}
                owner.requests.append((self.path, headers))
                route = owner.routes.get(self.path)
                if route is None:
                    self._answer(404, b"tidak ada")
                    return
                if route.hang:
                    owner._stopping.wait(route.hang)
                if route.redirect_to is not None:
                    self._answer(302, b"", {"Location": route.redirect_to})
                    return
                if route.status is not None:
                    extra = {"Retry-After": route.retry_after} if route.retry_after else {}
                    self._answer(route.status, b"sibuk", extra)
                    return
                if route.endless:
                    self._stream_forever()
                    return
                if route.html is not None:
                    page = route.html.encode()
                    self._answer(200, page, {"Content-Type": "text/html; charset=utf-8"})
                    return
                body = route.rss()
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                if route.conditional and headers.get("if-none-match") == etag:
                    self._answer(304, b"", {"ETag": etag})
                    return
                self._answer(200, body, {"ETag": etag, "Content-Type": "application/rss+xml"})

            def _answer(
                self, status: int, body: bytes, extra: dict[str, str] | None = None
            ) -> None:
                owner.answered.append((self.path, status))
                self.send_response(status)
                for name, value in (extra or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if body:
                    self.wfile.write(body)

            def _stream_forever(self) -> None:
                owner.answered.append((self.path, 200))
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.end_headers()
                chunk = b"<!-- " + b"x" * 65_000 + b" -->"
                try:
                    self.wfile.write(b'<?xml version="1.0"?><rss version="2.0"><channel>')
                    while not owner._stopping.is_set():
                        self.wfile.write(chunk)
                except OSError:
                    return  # the client stopped reading, as it should

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        # Looking for a shutdown every 20 ms, not every 0.5 s: closing the server at the end of
        # each test would otherwise wait up to half a second.
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopping.set()
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()


# The shortest interval a feed may have.
POLL_INTERVAL = timedelta(seconds=10)


def feeds_polled_every_second(server: FeedServer) -> list[str]:
    """Paths of feeds on `server` whose polls, each every `POLL_INTERVAL`, fall in every second
    of it.

    Each feed is polled at its own offset within its interval: with one feed, the poll after
    the first comes up to 10 s later. With one feed for each second of the interval, one of
    them is polled again within a second of any moment, so that the test waits a second or two
    instead of up to ten, and still sees a story found by a poll of `run`'s own timing.
    """
    paths: list[str] = []
    covered: set[int] = set()
    start = datetime(2026, 11, 24, tzinfo=UTC)
    for number in range(1_000):
        path = f"/dunia-{number}.xml"
        feed = Feed(
            id=number,
            url=server.url(path),
            section="internasional",
            interval=POLL_INTERVAL,
            full_text=False,
            enabled=True,
            next_poll_at=start,
        )
        # The seconds of the interval after which this feed's next poll is at most 1 s away.
        soon = {
            second
            for second in range(10)
            if next_slot(feed, start + timedelta(seconds=second))
            - (start + timedelta(seconds=second))
            <= timedelta(seconds=1)
        }
        if soon - covered:
            paths.append(path)
            covered |= soon
        if len(covered) == 10:
            return paths
    raise AssertionError("no spread of feeds found")
