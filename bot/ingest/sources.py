"""Reading one input, a local file or an http(s) URL, into bytes with hard limits.

URLs are fetched by `bot.ingest.safe_fetch`, under its rules on addresses and redirects.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import re
import stat
from dataclasses import dataclass, replace
from pathlib import PurePosixPath
from typing import BinaryIO
from urllib.parse import urlsplit

from bot.ingest.errors import IngestError
from bot.ingest.safe_fetch import FetchTimedOut, FetchTooLarge, SafeFetcher

logger = logging.getLogger(__name__)

_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, "
    "text/html;q=0.8, application/x-ndjson;q=0.8, */*;q=0.5"
)
_SCHEME = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*):")
# How much of a local file is read up front: enough to tell its kind, and all of most files.
# A longer file is streamed (JSON Lines) or read whole when its parser needs it all.
LOCAL_HEAD_BYTES = 1 << 20


@dataclass(frozen=True)
class SourceDocument:
    """The raw bytes of one input and what is known about where they came from.

    Attributes:
        location: what the user gave (a path or URL), for reports.
        content: the bytes read: the whole input, or the start of a long local file.
        content_type: the HTTP Content-Type, if any.
        base_url: the final URL after redirects, for resolving relative links; None for files.
        path: the local file the bytes came from, which `open` reads again; None for URLs.
        complete: False when `content` is only the start of the file at `path`.
    """

    location: str
    content: bytes
    content_type: str | None
    base_url: str | None
    path: str | None = None
    complete: bool = True

    def open(self) -> BinaryIO:
        """The whole input as a binary stream, from the file when there is one."""
        if self.path is not None:
            return open(self.path, "rb")
        return io.BytesIO(self.content)

    def loaded(self) -> SourceDocument:
        """This document with all of its bytes in `content`."""
        if self.complete or self.path is None:
            return self
        with self.open() as stream:
            return replace(self, content=stream.read(), complete=True)


def source_label(doc: SourceDocument) -> str:
    """A short name for where a document came from: the host for URLs, the file name for files.

    Used as a story's `source` when the input names no publisher; never a full local path.
    """
    if doc.base_url:
        host = urlsplit(doc.base_url).hostname
        if host:
            return host
    return PurePosixPath(doc.location.replace("\\", "/")).name or doc.location


def size_text(max_bytes: int) -> str:
    """A byte count as people say it: `10 MB`, `1500 bytes`."""
    if max_bytes >= 1_000_000 and max_bytes % 100_000 == 0:
        return f"{max_bytes / 1_000_000:g} MB"
    return f"{max_bytes} bytes"


async def read_source(
    location: str,
    *,
    max_bytes: int = 10_000_000,
    timeout: float = 20.0,  # noqa: ASYNC109 -- a per-input budget in the contract; the fetcher enforces it
    fetcher: SafeFetcher | None = None,
) -> SourceDocument:
    """Read one input: all of a URL, the start of a local file (see `SourceDocument`).

    Args:
        location: an ``http://`` or ``https://`` URL, or a local file path.
        max_bytes: inputs fetched from a URL larger than this are refused; local files have
            no limit (their owner put them there).
        timeout: total seconds a URL fetch may take, redirects and slow servers included.
        fetcher: fetches URLs, under its safety rules; a strict one of its own (public
            addresses only) when None.

    Raises:
        IngestError: the input cannot be read; the message says why (`FetchRefused`, a
            subclass, for a URL against the safety rules).
    """
    match = _SCHEME.match(location)
    scheme = match.group("scheme").lower() if match else None
    if scheme in ("http", "https"):
        return await _fetch(location, max_bytes=max_bytes, seconds=timeout, fetcher=fetcher)
    # A one-letter "scheme" is a Windows drive ("C:\feeds\x.xml"), not a URL.
    if scheme is not None and len(scheme) > 1:
        raise IngestError(f"unsupported URL scheme '{scheme}:' (only http and https)")
    content, complete = await asyncio.to_thread(_read_file_head, location)
    return SourceDocument(
        location=location,
        content=content,
        content_type=None,
        base_url=None,
        path=location,
        complete=complete,
    )


def _read_file_head(path: str) -> tuple[bytes, bool]:
    """The first `LOCAL_HEAD_BYTES` of a regular file, and whether that is all of it."""
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise IngestError("is a directory")
        # FIFOs, devices and sockets could block forever or never end.
        if not stat.S_ISREG(info.st_mode):
            raise IngestError("not a regular file")
        with open(path, "rb") as handle:
            content = handle.read(LOCAL_HEAD_BYTES + 1)
    except FileNotFoundError:
        raise IngestError("file not found") from None
    except PermissionError:
        raise IngestError("permission denied") from None
    except OSError as err:
        raise IngestError(f"cannot read file: {err.strerror or err}") from None
    if len(content) > LOCAL_HEAD_BYTES:
        return content[:LOCAL_HEAD_BYTES], False
    return content, True


async def _fetch(
    url: str, *, max_bytes: int, seconds: float, fetcher: SafeFetcher | None
) -> SourceDocument:
    try:
        async with contextlib.AsyncExitStack() as opened:
            if fetcher is None:
                fetcher = await opened.enter_async_context(SafeFetcher())
            result = await fetcher.get(
                url, max_bytes=max_bytes, timeout=seconds, headers={"Accept": _ACCEPT}
            )
    except FetchTimedOut:
        raise IngestError(
            f"timed out after {seconds:g} s (NEWSBOT_INGEST_TIMEOUT_SECONDS)"
        ) from None
    except FetchTooLarge:
        raise IngestError(
            f"larger than {size_text(max_bytes)} (NEWSBOT_INGEST_MAX_BYTES)"
        ) from None
    # Anything but 2xx here (a 3xx without Location, say) has no document for us.
    if not 200 <= result.status < 300:
        raise IngestError(f"HTTP {result.status}")
    return SourceDocument(
        location=url,
        content=result.body,
        content_type=result.headers.get("content-type"),
        base_url=result.url,
    )
