"""Reading inputs: local files and http(s) URLs from a server on 127.0.0.1.

127.0.0.1 is a private address: the URL tests opt in, as NEWSBOT_ALLOW_PRIVATE_SOURCES=true
does (tests/ingest/test_safe_fetch.py checks that it is refused otherwise).
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bot.ingest.errors import IngestError
from bot.ingest.safe_fetch import AddressPolicy, SafeFetcher
from bot.ingest.sources import LOCAL_HEAD_BYTES, SourceDocument, read_source, source_label

if TYPE_CHECKING:
    from conftest import LocalServer


@pytest.fixture
async def fetcher() -> AsyncIterator[SafeFetcher]:
    """A fetcher that may reach the test servers on 127.0.0.1."""
    async with SafeFetcher(AddressPolicy(allow_private=True)) as opened:
        yield opened


async def test_reads_a_local_file(tmp_path: Path) -> None:
    path = tmp_path / "feed.xml"
    path.write_bytes(b"<rss/>")
    doc = await read_source(str(path))
    assert doc == SourceDocument(str(path), b"<rss/>", None, None, path=str(path))
    assert doc.loaded() is doc


async def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match=r"^file not found$"):
        await read_source(str(tmp_path / "tidak-ada.xml"))
    with pytest.raises(IngestError, match=r"^is a directory$"):
        await read_source(str(tmp_path))


async def test_a_local_file_has_no_size_limit_and_a_long_one_is_read_in_part(
    tmp_path: Path,
) -> None:
    path = tmp_path / "besar.jsonl"
    path.write_bytes(b"x" * (LOCAL_HEAD_BYTES + 10))
    doc = await read_source(str(path), max_bytes=1000)
    assert (len(doc.content), doc.complete) == (LOCAL_HEAD_BYTES, False)
    assert doc.loaded().content == b"x" * (LOCAL_HEAD_BYTES + 10)
    with doc.open() as stream:
        assert len(stream.read()) == LOCAL_HEAD_BYTES + 10


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs")
async def test_a_fifo_is_not_read(tmp_path: Path) -> None:
    fifo = tmp_path / "pipa"
    os.mkfifo(fifo)
    with pytest.raises(IngestError, match=r"^not a regular file$"):
        await asyncio.wait_for(read_source(str(fifo)), 5)


@pytest.mark.parametrize(
    "location", ["file:///etc/passwd", "FILE:/etc/passwd", "ftp://x.example.id/a", "data:,x"]
)
async def test_other_schemes_are_refused(location: str) -> None:
    with pytest.raises(IngestError, match=r"^unsupported URL scheme"):
        await read_source(location)


async def test_fetches_a_url_following_redirects(
    http_server: LocalServer, fetcher: SafeFetcher
) -> None:
    http_server.respond(
        "/rss/feed.xml", 200, b"<rss/>", headers={"Content-Type": "application/rss+xml"}
    )
    http_server.redirect("/lama", "/rss/feed.xml")
    doc = await read_source(http_server.url("/lama"), fetcher=fetcher)
    assert doc.content == b"<rss/>"
    assert doc.content_type == "application/rss+xml"
    assert doc.base_url == http_server.url("/rss/feed.xml")
    assert doc.location == http_server.url("/lama")
    assert source_label(doc) == "127.0.0.1"


async def test_http_error_status(http_server: LocalServer, fetcher: SafeFetcher) -> None:
    with pytest.raises(IngestError, match=r"^HTTP 404$"):
        await read_source(http_server.url("/hilang"), fetcher=fetcher)


async def test_redirect_loop(http_server: LocalServer, fetcher: SafeFetcher) -> None:
    http_server.redirect("/putar", "/putar")
    with pytest.raises(IngestError, match=r"^too many redirects \(more than 5\)$"):
        await read_source(http_server.url("/putar"), fetcher=fetcher)
    assert 1 < len(http_server.hits) <= 6


async def test_redirect_to_a_local_file_is_refused(
    http_server: LocalServer, fetcher: SafeFetcher
) -> None:
    http_server.redirect("/ke-berkas", "file:///etc/passwd")
    with pytest.raises(IngestError, match="not http or https"):
        await read_source(http_server.url("/ke-berkas"), fetcher=fetcher)


async def test_slow_drip_hits_the_total_deadline(
    http_server: LocalServer, fetcher: SafeFetcher
) -> None:
    # Each byte arrives well within any per-read timeout; only the total deadline can stop it.
    http_server.drip("/tetes", 0.05)
    started = time.monotonic()
    with pytest.raises(
        IngestError, match=r"^timed out after 0.5 s \(NEWSBOT_INGEST_TIMEOUT_SECONDS\)$"
    ):
        # wait_for only guards the test run itself; it must never be what fires.
        await asyncio.wait_for(
            read_source(http_server.url("/tetes"), timeout=0.5, fetcher=fetcher), 10
        )
    assert time.monotonic() - started < 3.0


async def test_body_over_the_limit_with_content_length(
    http_server: LocalServer, fetcher: SafeFetcher
) -> None:
    http_server.respond("/besar", 200, b"x" * 5000)
    with pytest.raises(
        IngestError, match=r"^larger than 1000 bytes \(NEWSBOT_INGEST_MAX_BYTES\)$"
    ):
        await read_source(http_server.url("/besar"), max_bytes=1000, fetcher=fetcher)


async def test_body_over_the_limit_without_content_length(
    http_server: LocalServer, fetcher: SafeFetcher
) -> None:
    http_server.respond("/besar", 200, b"x" * 50_000, length=False)
    with pytest.raises(
        IngestError, match=r"^larger than 1000 bytes \(NEWSBOT_INGEST_MAX_BYTES\)$"
    ):
        await read_source(http_server.url("/besar"), max_bytes=1000, fetcher=fetcher)


async def test_connection_refused(fetcher: SafeFetcher) -> None:
    # A port held bound without listening: nothing listens there, and nothing else (another
    # xdist worker's server) can take it meanwhile.
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        port = held.getsockname()[1]
        with pytest.raises(IngestError, match=r"^cannot fetch: ConnectError"):
            await read_source(f"http://127.0.0.1:{port}/x", timeout=5, fetcher=fetcher)
