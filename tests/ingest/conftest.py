"""Ingest test fixtures: fixture files, a recording section resolver, a local HTTP server."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.ingest.sources import SourceDocument

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "ingest"
SECTIONS = frozenset({"nasional", "internasional", "ekonomi", "olahraga", "teknologi"})

DocFactory = Callable[..., SourceDocument]


@pytest.fixture
def fixture_doc() -> DocFactory:
    """Load a file under tests/fixtures/ingest as `read_source` would have returned it.

    Call as ``fixture_doc("feed.xml", base_url=None, content_type=None)``.
    """

    def load(
        name: str, *, base_url: str | None = None, content_type: str | None = None
    ) -> SourceDocument:
        return SourceDocument(
            location=name,
            content=(FIXTURES / name).read_bytes(),
            content_type=content_type,
            base_url=base_url,
        )

    return load


@pytest.fixture
def make_doc() -> DocFactory:
    """Build an in-memory document: ``make_doc(content, location=..., content_type=...,
    base_url=...)``; `content` may be str (encoded as UTF-8) or bytes."""

    def build(
        content: bytes | str,
        *,
        location: str = "input",
        content_type: str | None = None,
        base_url: str | None = None,
    ) -> SourceDocument:
        data = content.encode() if isinstance(content, str) else content
        return SourceDocument(location, data, content_type, base_url)

    return build


@pytest.fixture
def fixtures_dir() -> Path:
    """The directory holding the ingest fixture files."""
    return FIXTURES


@dataclass
class RecordingResolver:
    """A section resolver that remembers every word list it was asked about."""

    calls: list[list[str]] = field(default_factory=list)

    def __call__(self, words: Sequence[str]) -> str:
        self.calls.append(list(words))
        for word in words:
            if word.casefold() in SECTIONS:
                return word.casefold()
        return "umum"


@pytest.fixture
def resolver() -> RecordingResolver:
    """A fresh recording section resolver."""
    return RecordingResolver()


# --- a tiny HTTP/1.1 server on 127.0.0.1 -----------------------------------------------------

Handler = Callable[[asyncio.StreamWriter], Awaitable[None]]


@dataclass
class LocalServer:
    """A local HTTP server whose routes the test fills in."""

    base: str
    routes: dict[str, Handler] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        """The absolute URL of `path` on this server."""
        return self.base + path

    def respond(
        self,
        path: str,
        status: int,
        body: bytes = b"",
        *,
        headers: dict[str, str] | None = None,
        length: bool = True,
    ) -> None:
        """Answer `path` with one complete response (no Content-Length when `length` is False)."""

        async def send(writer: asyncio.StreamWriter) -> None:
            writer.write(head(status, headers, len(body) if length else None) + body)
            await writer.drain()

        self.routes[path] = send

    def redirect(self, path: str, location: str) -> None:
        """Answer `path` with a 302 to `location`."""
        self.respond(path, 302, headers={"Location": location})

    def drip(self, path: str, interval: float) -> None:
        """Answer `path` with a 200 whose body arrives one byte per `interval`, forever."""

        async def send(writer: asyncio.StreamWriter) -> None:
            writer.write(head(200, {"Content-Type": "application/rss+xml"}, None))
            while True:
                writer.write(b" ")
                await writer.drain()
                await asyncio.sleep(interval)

        self.routes[path] = send


def head(status: int, headers: dict[str, str] | None, length: int | None) -> bytes:
    """The status line and headers of a response."""
    lines = [f"HTTP/1.1 {status} Test", "Connection: close"]
    lines += [f"{key}: {value}" for key, value in (headers or {}).items()]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@pytest.fixture
async def http_server(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[LocalServer]:
    """Serve `LocalServer.routes` on 127.0.0.1 for the duration of one test."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    handlers: set[asyncio.Task[None]] = set()
    server_ref: list[LocalServer] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        handlers.add(task)
        try:
            request = await reader.readuntil(b"\r\n\r\n")
            path = request.split(b" ", 2)[1].decode()
            server_ref[0].hits.append(path)
            route = server_ref[0].routes.get(path)
            if route is None:
                writer.write(head(404, None, 0))
            else:
                await route(writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
            handlers.discard(task)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server_ref.append(LocalServer(base=f"http://127.0.0.1:{port}"))
    try:
        yield server_ref[0]
    finally:
        server.close()
        for task in list(handlers):
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)
        await server.wait_closed()
