"""Reading one input, a local file or an http(s) URL, into bytes with hard limits."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import stat
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import urlsplit

import httpx

from bot.ingest.errors import IngestError

logger = logging.getLogger(__name__)

MAX_REDIRECTS = 5
_USER_AGENT = "newsbot-ingest/0.1"
_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, "
    "text/html;q=0.8, application/x-ndjson;q=0.8, */*;q=0.5"
)
_SCHEME = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*):")


@dataclass(frozen=True)
class SourceDocument:
    """The raw bytes of one input and what is known about where they came from.

    Attributes:
        location: what the user gave (a path or URL), for reports.
        content: the bytes read.
        content_type: the HTTP Content-Type, if any.
        base_url: the final URL after redirects, for resolving relative links; None for files.
    """

    location: str
    content: bytes
    content_type: str | None
    base_url: str | None


def source_label(doc: SourceDocument) -> str:
    """A short name for where a document came from: the host for URLs, the file name for files.

    Used as a story's `source` when the input names no publisher; never a full local path.
    """
    if doc.base_url:
        host = urlsplit(doc.base_url).hostname
        if host:
            return host
    return PurePosixPath(doc.location.replace("\\", "/")).name or doc.location


def _size_text(max_bytes: int) -> str:
    if max_bytes >= 1_000_000 and max_bytes % 100_000 == 0:
        return f"{max_bytes / 1_000_000:g} MB"
    return f"{max_bytes} bytes"


async def read_source(
    location: str,
    *,
    max_bytes: int = 10_000_000,
    timeout: float = 20.0,  # noqa: ASYNC109 -- a per-input budget in the contract; enforced below with asyncio.timeout
) -> SourceDocument:
    """Read one input.

    Args:
        location: an ``http://`` or ``https://`` URL, or a local file path.
        max_bytes: inputs larger than this are refused.
        timeout: total seconds a URL fetch may take, redirects and slow servers included.

    Raises:
        IngestError: the input cannot be read; the message says why.
    """
    match = _SCHEME.match(location)
    scheme = match.group("scheme").lower() if match else None
    if scheme in ("http", "https"):
        return await _fetch(location, max_bytes=max_bytes, seconds=timeout)
    # A one-letter "scheme" is a Windows drive ("C:\feeds\x.xml"), not a URL.
    if scheme is not None and len(scheme) > 1:
        raise IngestError(f"unsupported URL scheme '{scheme}:' (only http and https)")
    content = await asyncio.to_thread(_read_file, location, max_bytes)
    return SourceDocument(location=location, content=content, content_type=None, base_url=None)


def _read_file(path: str, max_bytes: int) -> bytes:
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise IngestError("is a directory")
        # FIFOs, devices and sockets could block forever or never end.
        if not stat.S_ISREG(info.st_mode):
            raise IngestError("not a regular file")
        if info.st_size > max_bytes:
            raise IngestError(f"larger than {_size_text(max_bytes)}")
        with open(path, "rb") as handle:
            content = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise IngestError("file not found") from None
    except PermissionError:
        raise IngestError("permission denied") from None
    except OSError as err:
        raise IngestError(f"cannot read file: {err.strerror or err}") from None
    # The size may have grown between stat and read.
    if len(content) > max_bytes:
        raise IngestError(f"larger than {_size_text(max_bytes)}")
    return content


async def _fetch(url: str, *, max_bytes: int, seconds: float) -> SourceDocument:
    too_large = IngestError(f"larger than {_size_text(max_bytes)}")
    try:
        # The client's own timeout only bounds each read; the outer deadline bounds the whole
        # exchange, so a server dripping one byte at a time cannot hold us forever.
        async with (
            asyncio.timeout(seconds),
            httpx.AsyncClient(
                follow_redirects=True,
                max_redirects=MAX_REDIRECTS,
                timeout=httpx.Timeout(seconds),
                headers={"User-Agent": _USER_AGENT, "Accept": _ACCEPT},
            ) as client,
            client.stream("GET", url) as response,
        ):
            # Anything but 2xx here (a 3xx without Location, say) has no document for us.
            if not response.is_success:
                raise IngestError(f"HTTP {response.status_code}")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise too_large
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    raise too_large
            return SourceDocument(
                location=url,
                content=bytes(body),
                content_type=response.headers.get("content-type"),
                base_url=str(response.url),
            )
    except TimeoutError:
        raise IngestError(f"timed out after {seconds:g} s") from None
    except httpx.TimeoutException:
        raise IngestError(f"timed out after {seconds:g} s") from None
    except httpx.TooManyRedirects:
        raise IngestError(f"too many redirects (more than {MAX_REDIRECTS})") from None
    except httpx.UnsupportedProtocol:
        raise IngestError("redirected to a URL that is not http or https") from None
    except httpx.InvalidURL as err:
        raise IngestError(f"invalid URL: {err}") from None
    except httpx.HTTPError as err:
        logger.debug("fetching %s failed", url, exc_info=True)
        raise IngestError(f"cannot fetch: {_http_reason(err)}") from None


def _http_reason(err: httpx.HTTPError) -> str:
    text = str(err).strip()
    return f"{type(err).__name__}: {text}" if text else type(err).__name__
