"""Safe fetching: only http(s), and only public addresses, checked where the connection is made.

Real servers on 127.0.0.1 count the connections they accept: a refused fetch must leave its
target with none. For the cases where a fetch must succeed, `OneServerPublic` declares a single
test server public while every other address keeps the bot's real rules. Names other than
localhost are resolved by a stand-in for `safe_fetch.resolve_host` (the real one would trip the
network guard of tests/conftest.py, which is also how these tests know that nothing looked a
name up behind the check's back).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import re
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from bot.ingest import safe_fetch
from bot.ingest.errors import IngestError
from bot.ingest.safe_fetch import (
    USER_AGENT,
    AddressPolicy,
    FetchRefused,
    FetchTimedOut,
    FetchTooLarge,
    IPAddress,
    SafeFetcher,
)
from bot.ingest.sources import read_source
from tests.support import Newsbot

PRIVATE_HINT = r"\(allowed only with NEWSBOT_ALLOW_PRIVATE_SOURCES=true\)"


# --- a server that counts what reaches it ----------------------------------------------------


@dataclass
class Answer:
    """What a path answers: a status, headers and a body, after an optional delay."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay: float = 0.0


@dataclass
class CountingServer:
    """An HTTP/1.1 server that counts accepted connections and keeps each request's head."""

    host: str
    port: int = 0
    routes: dict[str, Answer] = field(default_factory=dict)
    connections: int = 0
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    active: int = 0
    most_active: int = 0
    server_names: list[str | None] = field(default_factory=list)  # SNI, when serving TLS

    @property
    def address(self) -> IPAddress:
        return ipaddress.ip_address(self.host)

    def url(self, path: str = "/", *, scheme: str = "http", host: str | None = None) -> str:
        name = host or (f"[{self.host}]" if ":" in self.host else self.host)
        return f"{scheme}://{name}:{self.port}{path}"

    def redirect(self, path: str, location: str) -> None:
        self.routes[path] = Answer(302, {"Location": location})

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.active += 1
        self.most_active = max(self.most_active, self.active)
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            request_line, *lines = head.split("\r\n")
            path = request_line.split(" ")[1]
            headers = {
                name.strip().lower(): value.strip()
                for name, _, value in (line.partition(":") for line in lines if line)
            }
            self.requests.append((path, headers))
            answer = self.routes.get(path, Answer(404))
            await asyncio.sleep(answer.delay)
            fields = {"Connection": "close", **answer.headers}
            fields["Content-Length"] = str(len(answer.body))
            response = f"HTTP/1.1 {answer.status} Test\r\n" + "".join(
                f"{name}: {value}\r\n" for name, value in fields.items()
            )
            writer.write(response.encode() + b"\r\n" + answer.body)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        finally:
            self.active -= 1
            writer.close()
            with contextlib.suppress(ConnectionError, ssl.SSLError):
                await writer.wait_closed()


@contextlib.asynccontextmanager
async def serving(
    host: str = "127.0.0.1", *, port: int = 0, tls: ssl.SSLContext | None = None
) -> AsyncIterator[CountingServer]:
    """A `CountingServer` listening on `host` for the duration of the block."""
    counting = CountingServer(host)
    if tls is not None:

        def record_name(_sock: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
            counting.server_names.append(name)

        tls.sni_callback = record_name
    server = await asyncio.start_server(counting.handle, host, port, ssl=tls)
    counting.port = server.sockets[0].getsockname()[1]
    try:
        yield counting
    finally:
        server.close()
        await server.wait_closed()


@pytest.fixture
async def target() -> AsyncIterator[CountingServer]:
    """The server a hostile URL aims at: it must never see a connection."""
    async with serving() as server:
        yield server


@pytest.fixture
async def publisher() -> AsyncIterator[CountingServer]:
    """A server that tests declare public with `OneServerPublic`."""
    async with serving() as server:
        yield server


@dataclass(frozen=True, kw_only=True)
class OneServerPublic(AddressPolicy):
    """The bot's rules, except that one test server (address and port) counts as public."""

    address: IPAddress
    port: int

    def refusal(self, address: IPAddress, port: int) -> str | None:
        if (address, port) == (self.address, self.port):
            return None
        return super().refusal(address, port)


def public(server: CountingServer) -> OneServerPublic:
    return OneServerPublic(address=server.address, port=server.port)


def fake_dns(
    monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[list[str]]]
) -> dict[str, int]:
    """Resolve the names in `answers` with their lists of addresses, one list per lookup (the
    last repeats), instead of the system resolver; returns the lookups made, by name."""
    lookups: dict[str, int] = {}

    async def resolve(host: str, port: int) -> list[IPAddress]:
        count = lookups.get(host, 0)
        lookups[host] = count + 1
        rounds = answers[host]
        return [ipaddress.ip_address(a) for a in rounds[min(count, len(rounds) - 1)]]

    monkeypatch.setattr(safe_fetch, "resolve_host", resolve)
    return lookups


async def fetch(
    url: str,
    policy: AddressPolicy | None = None,
    *,
    max_bytes: int = 100_000,
    ssl_context: ssl.SSLContext | None = None,
) -> safe_fetch.FetchResult:
    """One fetch by a fetcher of its own (strict unless `policy` says otherwise)."""
    async with SafeFetcher(policy, ssl_context=ssl_context) as fetcher:
        return await fetcher.get(url, max_bytes=max_bytes, timeout=10)


# --- refused ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:{port}/", rf"127\.0\.0\.1 is a loopback address {PRIVATE_HINT}"),
        (
            "http://localhost:{port}/",
            rf"localhost resolves to (127\.0\.0\.1|::1), a loopback address {PRIVATE_HINT}",
        ),
        ("http://10.0.0.1/", rf"10\.0\.0\.1 is a private address {PRIVATE_HINT}"),
        ("http://192.168.1.1:{port}/", rf"192\.168\.1\.1 is a private address {PRIVATE_HINT}"),
        ("http://100.64.0.1/", rf"100\.64\.0\.1 is a carrier-grade NAT address {PRIVATE_HINT}"),
        ("http://169.254.169.254/", r"169\.254\.169\.254 is the cloud metadata service address"),
        ("http://169.254.1.1/", r"169\.254\.1\.1 is a link-local address"),
        ("http://0.0.0.0:{port}/", r"0\.0\.0\.0 is an unspecified address \('this host'\)"),
        ("http://[::1]:{port}/", rf"::1 is a loopback address {PRIVATE_HINT}"),
        ("http://[fd12::1]/", rf"fd12::1 is a unique-local address {PRIVATE_HINT}"),
        ("http://[fe80::1]/", r"fe80::1 is a link-local address"),
        (
            "http://[::ffff:127.0.0.1]:{port}/",
            r"::ffff:7f00:1 is an IPv4-mapped IPv6 address \(of 127\.0\.0\.1\)",
        ),
        (
            "http://[::127.0.0.1]:{port}/",
            r"::7f00:1 is an IPv4-compatible IPv6 address \(of 127\.0\.0\.1\)",
        ),
        (
            "http://[64:ff9b::a00:1]/",
            rf"64:ff9b::a00:1 is a NAT64 address of 10\.0\.0\.1, a private address {PRIVATE_HINT}",
        ),
        ("http://224.0.0.1/", r"224\.0\.0\.1 is a multicast address"),
        ("http://192.0.2.7/", r"192\.0\.2\.7 is a documentation address"),
        ("http://240.0.0.1/", r"240\.0\.0\.1 is a reserved address"),
        (
            "http://2130706433:{port}/",
            r"2130706433 is an unusual spelling of the IP address 127\.0\.0\.1",
        ),
        (
            "http://0x7f.1:{port}/",
            r"0x7f\.1 is an unusual spelling of the IP address 127\.0\.0\.1",
        ),
        (
            "http://017700000001:{port}/",
            r"017700000001 is an unusual spelling of the IP address 127\.0\.0\.1",
        ),
        ("http://127.1:{port}/", r"127\.1 is an unusual spelling of the IP address 127\.0\.0\.1"),
        ("file:///etc/passwd", r"unsupported URL scheme 'file:' \(only http and https\)"),
        ("ftp://127.0.0.1:{port}/", r"unsupported URL scheme 'ftp:' \(only http and https\)"),
    ],
)
async def test_a_non_public_address_is_refused_and_never_connected(
    target: CountingServer, no_network_beyond_loopback: list[object], url: str, reason: str
) -> None:
    with pytest.raises(FetchRefused, match=rf"^refused: {reason}$"):
        await fetch(url.format(port=target.port))
    assert target.connections == 0
    assert no_network_beyond_loopback == []  # not even an attempt elsewhere


async def _serving_or_skip(
    stack: contextlib.AsyncExitStack, host: str, *, port: int = 0
) -> CountingServer:
    try:
        return await stack.enter_async_context(serving(host, port=port))
    except OSError as err:
        pytest.skip(f"cannot listen on {host} here: {err}")


async def test_reading_a_source_is_strict_unless_given_a_fetcher(target: CountingServer) -> None:
    with pytest.raises(FetchRefused, match=r"^refused: 127\.0\.0\.1 is a loopback address"):
        await read_source(target.url("/feed.xml"))
    assert target.connections == 0


async def test_an_ipv6_loopback_server_sees_no_connection() -> None:
    async with contextlib.AsyncExitStack() as stack:
        server = await _serving_or_skip(stack, "::1")
        with pytest.raises(FetchRefused, match=r"^refused: ::1 is a loopback address"):
            await fetch(server.url())
        assert server.connections == 0


async def test_a_name_that_resolves_to_loopback_is_refused(
    target: CountingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    lookups = fake_dns(monkeypatch, {"berita.example": [["127.0.0.1"]]})
    with pytest.raises(
        FetchRefused,
        match=rf"^refused: berita\.example resolves to 127\.0\.0\.1, a loopback address "
        rf"{PRIVATE_HINT}$",
    ):
        await fetch(target.url(host="berita.example"))
    assert target.connections == 0
    assert lookups == {"berita.example": 1}


async def test_a_name_with_one_private_address_among_public_ones_is_refused(
    publisher: CountingServer, target: CountingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Which address a connection would use is the name server's choice: all must pass.
    fake_dns(monkeypatch, {"berita.example": [["127.0.0.1", "10.1.2.3"]]})
    with pytest.raises(FetchRefused, match=r"resolves to 10\.1\.2\.3, a private address"):
        await fetch(publisher.url(host="berita.example"), public(publisher))
    assert publisher.connections == 0


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("http://127.0.0.1:{port}/feed.xml", r"127\.0\.0\.1 is a loopback address"),
        ("http://localhost:{port}/feed.xml", r"localhost resolves to (127\.0\.0\.1|::1)"),
        ("http://[::1]:{port}/feed.xml", r"::1 is a loopback address"),
        ("http://0x7f.1:{port}/feed.xml", r"0x7f\.1 is an unusual spelling"),
        ("http://169.254.169.254/latest/meta-data/", r"169\.254\.169\.254 is the cloud metadata"),
    ],
)
async def test_a_public_url_that_redirects_to_a_private_one_is_refused(
    publisher: CountingServer, target: CountingServer, location: str, reason: str
) -> None:
    hop = location.format(port=target.port)
    publisher.redirect("/pindah", hop)
    with pytest.raises(FetchRefused, match=rf"^refused: redirected to {re.escape(hop)}; {reason}"):
        await fetch(publisher.url("/pindah"), public(publisher))
    assert (publisher.connections, target.connections) == (1, 0)


async def test_a_redirect_to_another_scheme_is_refused(publisher: CountingServer) -> None:
    publisher.redirect("/berkas", "file:///etc/passwd")
    with pytest.raises(
        FetchRefused, match=r"^refused: redirected to a URL that is not http or https \(file:\)$"
    ):
        await fetch(publisher.url("/berkas"), public(publisher))


async def test_the_connection_goes_to_the_address_checked_not_to_a_second_lookup(
    publisher: CountingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # DNS rebinding: the name server answers a public address, then a private one. The
    # connection must use the first answer: one lookup, to the publisher.
    async with contextlib.AsyncExitStack() as stack:
        rebound = await _serving_or_skip(stack, "127.0.0.2", port=publisher.port)
        publisher.routes["/"] = Answer(body=b"ok")
        lookups = fake_dns(monkeypatch, {"berita.example": [["127.0.0.1"], ["127.0.0.2"]]})
        result = await fetch(publisher.url(host="berita.example"), public(publisher))
        assert (result.status, result.body) == (200, b"ok")
        assert lookups == {"berita.example": 1}
        assert (publisher.connections, rebound.connections) == (1, 0)
        assert publisher.requests[0][1]["host"] == f"berita.example:{publisher.port}"


# --- allowed ----------------------------------------------------------------------------------


async def test_private_sources_allowed_fetch_a_loopback_server(target: CountingServer) -> None:
    target.routes["/feed.xml"] = Answer(body=b"<rss/>", headers={"ETag": '"v1"'})
    result = await fetch(target.url("/feed.xml"), AddressPolicy(allow_private=True))
    assert (result.url, result.status, result.body) == (target.url("/feed.xml"), 200, b"<rss/>")
    assert result.headers["etag"] == '"v1"'
    [(_, headers)] = target.requests
    assert headers["user-agent"] == USER_AGENT
    assert USER_AGENT.startswith("newsbot/")


async def test_private_sources_allowed_still_refuses_metadata_and_link_local() -> None:
    for url in ("http://169.254.169.254/", "http://[fe80::1]/", "http://[::ffff:10.0.0.1]/"):
        with pytest.raises(FetchRefused):
            await fetch(url, AddressPolicy(allow_private=True))


async def test_a_declared_public_server_is_fetched_by_name_and_redirects_are_followed(
    publisher: CountingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_dns(monkeypatch, {"berita.example": [["127.0.0.1"]]})
    publisher.redirect("/a", "/b")
    publisher.redirect("/b", publisher.url("/c", host="berita.example"))
    publisher.routes["/c"] = Answer(body=b"akhir")
    result = await fetch(publisher.url("/a", host="berita.example"), public(publisher))
    assert result.url == publisher.url("/c", host="berita.example")
    assert result.body == b"akhir"


async def test_five_redirects_are_followed_and_a_sixth_is_too_many(
    publisher: CountingServer,
) -> None:
    for n in range(5):
        publisher.redirect(f"/{n}", f"/{n + 1}")
    publisher.routes["/5"] = Answer(body=b"sampai")
    assert (await fetch(publisher.url("/0"), public(publisher))).body == b"sampai"
    publisher.requests.clear()
    publisher.redirect("/putar", "/putar")
    with pytest.raises(IngestError, match=r"^too many redirects \(more than 5\)$"):
        await fetch(publisher.url("/putar"), public(publisher))
    assert len(publisher.requests) == 6  # the first request and five redirects


async def test_other_statuses_are_answers_without_a_body(publisher: CountingServer) -> None:
    publisher.routes["/lama"] = Answer(304, {"ETag": '"v1"'})
    publisher.routes["/sibuk"] = Answer(429, {"Retry-After": "120"}, b"tunggu")
    not_modified = await fetch(publisher.url("/lama"), public(publisher))
    assert (not_modified.status, not_modified.body) == (304, b"")
    busy = await fetch(publisher.url("/sibuk"), public(publisher))
    assert (busy.status, busy.headers["retry-after"], busy.body) == (429, "120", b"")


async def test_limits_on_size_and_time(publisher: CountingServer) -> None:
    publisher.routes["/besar"] = Answer(body=b"x" * 5000)
    publisher.routes["/lambat"] = Answer(body=b"x", delay=5)
    with pytest.raises(FetchTooLarge, match=r"^larger than 1000 bytes$"):
        await fetch(publisher.url("/besar"), public(publisher), max_bytes=1000)
    async with SafeFetcher(public(publisher)) as fetcher:
        with pytest.raises(FetchTimedOut, match=r"^timed out after 0.3 s$"):
            await fetcher.get(publisher.url("/lambat"), max_bytes=1000, timeout=0.3)


async def test_proxies_from_the_environment_are_ignored(
    publisher: CountingServer,
    target: CountingServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(name, target.url())
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    publisher.routes["/"] = Answer(body=b"langsung")
    with caplog.at_level(logging.WARNING, logger="bot.ingest.safe_fetch"):
        assert (await fetch(publisher.url(), public(publisher))).body == b"langsung"
    assert (publisher.connections, target.connections) == (1, 0)
    assert "connects to publishers directly" in caplog.text


async def test_the_per_host_limit_holds(publisher: CountingServer) -> None:
    publisher.routes["/"] = Answer(body=b"ok", delay=0.2)
    async with SafeFetcher(public(publisher), per_host_limit=1) as fetcher:
        await asyncio.gather(
            *(fetcher.get(publisher.url(), max_bytes=100, timeout=10) for _ in range(3))
        )
    assert (publisher.connections, publisher.most_active) == (3, 1)


# --- TLS: the name, not the pinned address, is what the certificate is checked against ------


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for berita.example, and its key."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-nodes", "-days", "1", "-subj", "/CN=berita.example"),
            *("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"),
            *("-addext", "subjectAltName=DNS:berita.example"),
            *("-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


async def test_tls_uses_the_host_name_for_sni_and_the_certificate(
    certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = certificate
    server_side = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_side.load_cert_chain(cert, key)
    fake_dns(monkeypatch, {"berita.example": [["127.0.0.1"]]})
    async with serving(tls=server_side) as server:
        server.routes["/"] = Answer(body=b"aman")
        trusted = ssl.create_default_context(cafile=str(cert))
        url = server.url(scheme="https", host="berita.example")
        result = await fetch(url, public(server), ssl_context=trusted)
        assert (result.status, result.body) == (200, b"aman")
        # Connected to 127.0.0.1, yet SNI and the certificate check used the URL's name.
        assert server.server_names == ["berita.example"]
        assert server.requests[0][1]["host"] == f"berita.example:{server.port}"
        # The same server by its address: the certificate does not name it, so no fetch.
        with pytest.raises(IngestError, match=r"^cannot fetch: ConnectError: .*CERTIFICATE"):
            await fetch(server.url(scheme="https"), public(server), ssl_context=trusted)


# --- `newsbot ingest` -------------------------------------------------------------------------


def _feed() -> bytes:
    published = format_datetime(datetime.now(UTC) - timedelta(minutes=5))
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Uji</title>'
        '<item><guid isPermaLink="false">aman-1</guid><title>Berita dari intranet</title>'
        f"<category>Nasional</category><pubDate>{published}</pubDate>"
        "<description>Isi berita.</description></item></channel></rss>"
    ).encode()


async def test_newsbot_ingest_refuses_private_urls_unless_allowed(
    tmp_path: Path, target: CountingServer
) -> None:
    target.routes["/feed.xml"] = Answer(
        body=_feed(), headers={"Content-Type": "application/rss+xml"}
    )
    newsbot = Newsbot(tmp_path)
    # Only forms whose target is this machine: nothing may leave it, whichever way the CLI runs.
    refused = {
        target.url("/feed.xml"): "127.0.0.1 is a loopback address",
        target.url("/feed.xml", host="localhost"): "localhost resolves to ",
        target.url("/feed.xml", host="[::1]"): "::1 is a loopback address",
        target.url("/feed.xml", host="2130706433"): "unusual spelling of the IP address 127.0.0.1",
        target.url("/feed.xml", host="0x7f.1"): "unusual spelling of the IP address 127.0.0.1",
        "file:///etc/passwd": "unsupported URL scheme 'file:' (only http and https)",
    }
    result = await asyncio.to_thread(newsbot, "ingest", *refused)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    for url, reason in refused.items():
        [line] = [line for line in lines if line.startswith(f"{url}: ")]
        assert line.startswith(f"{url}: FAILED: "), line
        assert reason in line, line
    assert f"{target.url('/feed.xml')}: FAILED: refused: 127.0.0.1 is a loopback address " in (
        result.stdout
    )
    assert target.connections == 0

    allowed = await asyncio.to_thread(
        newsbot, "ingest", target.url("/feed.xml"), env={"NEWSBOT_ALLOW_PRIVATE_SOURCES": "true"}
    )
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    assert f"{target.url('/feed.xml')}: rss, 1 new, 0 duplicate" in allowed.stdout
    assert target.connections == 1
    assert "Berita dari intranet" in newsbot.chat("/latest intranet\n")


async def test_the_system_resolver_gives_each_address_once() -> None:
    addresses = await safe_fetch.resolve_host("localhost", 80)
    assert addresses
    assert len(addresses) == len(set(addresses))
    assert all(address.is_loopback for address in addresses)
