"""The one way the bot fetches a URL from a publisher: http(s) only, public addresses only.

A URL the bot fetches comes from outside: an operator's command line, an admin's `/post` or
`/addfeed`, a feed's own redirects. Unchecked, it could point the bot at the machine it runs on
or the network around it: an admin page on 127.0.0.1, a router on 192.168.1.1, the cloud
metadata service on 169.254.169.254 that hands out credentials. So every address a fetch
connects to must be public: the first and every redirect hop, after DNS resolution, and the
address actually connected, not one looked up again after the check (DNS rebinding: an
attacker's name server may answer a second lookup differently).

How the address connected is the address checked. httpx sits on httpcore, and httpcore makes
every connection through a *network backend*: `connect_tcp(host, port)`. `_CheckingBackend`
is that backend. It resolves the name itself (getaddrinfo in a worker thread, through
`resolve_host`), checks every address the name has against `AddressPolicy`, and then asks
httpcore's own backend to connect to the checked IP literal, which needs no lookup; it finally
compares the socket's peer with what was checked. httpcore still starts TLS with the URL's host
name (`server_hostname` comes from the request's origin, not from what `connect_tcp` was given;
see `httpcore._async.connection.AsyncHTTPConnection._connect`), so SNI and the certificate check
use the publisher's name, and the Host header is the URL's. The backend sits below redirects,
keep-alive and the pool: nothing httpx does can open a connection that skips the check.

Redirects are followed here, not by httpx, so that each hop's URL is checked (scheme, host) and
a refusal can say which hop it was; the backend checks each hop's connection anyway.

Proxies from the environment (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY) are ignored, with a warning:
through a proxy the proxy resolves and connects, so the bot could not check the address
connected, and an allowed proxy would reach whatever it can reach. Refusing to fetch at all
when one is set would break a bot on a host whose other programs need it; the warning says
that the bot connects directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import re
import socket
import ssl
import urllib.request
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib import metadata
from typing import Final

import httpcore
import httpx

from bot.ingest.errors import IngestError

__all__ = [
    "MAX_REDIRECTS",
    "USER_AGENT",
    "AddressNotChecked",
    "AddressPolicy",
    "FetchRefused",
    "FetchResult",
    "FetchTimedOut",
    "FetchTooLarge",
    "IPAddress",
    "SafeFetcher",
    "resolve_host",
]

logger = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_REDIRECTS: Final = 5
ALLOW_SETTING: Final = "NEWSBOT_ALLOW_PRIVATE_SOURCES"


def _user_agent() -> str:
    # The project names no home page yet; the version alone still lets a publisher tell this
    # bot from others and from its own older releases.
    try:
        return f"newsbot/{metadata.version('newsbot')}"
    except metadata.PackageNotFoundError:
        return "newsbot"


USER_AGENT: Final = _user_agent()


class FetchRefused(IngestError):
    """A fetch the safety rules forbid; nothing was sent to the address refused.

    `reason` says what was refused and why, naming the address; `str(err)` is
    ``"refused: " + reason``.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(f"refused: {reason}")
        self.reason = reason


class AddressNotChecked(IngestError):
    """A URL's addresses cannot be checked now: its name does not resolve, or the lookup timed
    out. A passing failure, as far as the bot can tell: a later fetch checks again.

    `url` is the URL, normalised as `SafeFetcher.check` returns one it could check.
    """

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(reason)
        self.url = url


class FetchTimedOut(IngestError):
    """The whole fetch, redirects included, took longer than its time limit."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"timed out after {seconds:g} s")
        self.seconds = seconds


class FetchTooLarge(IngestError):
    """The answer's body is longer than the limit; the read was stopped there."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"larger than {max_bytes} bytes")
        self.max_bytes = max_bytes


@dataclass(frozen=True)
class FetchResult:
    """The final answer to a GET.

    Attributes:
        url: the URL that answered, after redirects.
        status: its HTTP status (any but a redirect: 200, 304, 404, 429, ...).
        headers: its headers (case-insensitive).
        body: the decoded body of a 2xx answer; empty for any other status, whose body is
            not read.
    """

    url: str
    status: int
    headers: Mapping[str, str]
    body: bytes


# --- which addresses may be connected -------------------------------------------------------


@dataclass(frozen=True)
class _Range:
    network: ipaddress.IPv4Network | ipaddress.IPv6Network
    kind: str  # follows "… is": "a loopback address"
    private: bool  # a private network an operator may open with ALLOW_SETTING


def _ranges(*rows: tuple[str, str, bool]) -> tuple[_Range, ...]:
    return tuple(_Range(ipaddress.ip_network(net), kind, private) for net, kind, private in rows)


# The special-purpose ranges of RFC 6890 and its updates, first match wins. "private" ranges are
# where an intranet's own servers live; the others hold no web server a bot should read (or,
# for link-local, the cloud metadata service), so they stay refused even when private sources
# are allowed. `is_global` below catches whatever this table misses.
_RANGES: Final = _ranges(
    ("169.254.169.254/32", "the cloud metadata service address", False),
    ("100.100.100.200/32", "a cloud metadata service address", False),
    ("fd00:ec2::254/128", "a cloud metadata service address", False),
    ("0.0.0.0/8", "an unspecified address ('this host')", False),
    ("127.0.0.0/8", "a loopback address", True),
    ("10.0.0.0/8", "a private address", True),
    ("172.16.0.0/12", "a private address", True),
    ("192.168.0.0/16", "a private address", True),
    ("100.64.0.0/10", "a carrier-grade NAT address", True),
    ("169.254.0.0/16", "a link-local address", False),
    ("192.0.0.0/24", "a reserved address", False),
    ("192.0.2.0/24", "a documentation address", False),
    ("198.51.100.0/24", "a documentation address", False),
    ("203.0.113.0/24", "a documentation address", False),
    ("198.18.0.0/15", "a benchmarking address", False),
    ("192.88.99.0/24", "a reserved address", False),
    ("224.0.0.0/4", "a multicast address", False),
    ("255.255.255.255/32", "the broadcast address", False),
    ("240.0.0.0/4", "a reserved address", False),
    ("::/128", "an unspecified address", False),
    ("::1/128", "a loopback address", True),
    ("64:ff9b:1::/48", "a local-use NAT64 address", False),
    ("100::/64", "a discard-only address", False),
    ("2001:db8::/32", "a documentation address", False),
    ("3fff::/20", "a documentation address", False),
    ("2001::/23", "a reserved address", False),
    ("fc00::/7", "a unique-local address", True),
    ("fec0::/10", "a site-local address", True),
    ("fe80::/10", "a link-local address", False),
    ("ff00::/8", "a multicast address", False),
)
_IPV4_COMPATIBLE: Final = ipaddress.IPv6Network("::/96")
_NAT64: Final = ipaddress.IPv6Network("64:ff9b::/96")
_GLOBAL_UNICAST: Final = ipaddress.IPv6Network("2000::/3")
_PRIVATE_HINT: Final = f" (allowed only with {ALLOW_SETTING}=true)"


@dataclass(frozen=True)
class AddressPolicy:
    """Which addresses a fetch may connect to.

    The default is strict: public addresses only. `allow_private` opens loopback, the private
    ranges, carrier-grade NAT, unique-local and site-local IPv6 (an intranet's feeds, tests on
    127.0.0.1); link-local (cloud metadata), unspecified, multicast, reserved and documentation
    addresses, and IPv6 forms that embed an IPv4 address, stay refused.

    Tests may subclass it to declare one test server public; the bot never does.

    Attributes:
        allow_private: the setting NEWSBOT_ALLOW_PRIVATE_SOURCES.
    """

    allow_private: bool = False

    def refusal(self, address: IPAddress, port: int) -> str | None:
        """Why connecting to `address` at `port` is refused, None if it is allowed.

        The reason reads after "… is": ``"a loopback address (allowed only with …)"``. The bot's
        rules are about the address alone; `port` is there for policies in tests.
        """
        if isinstance(address, ipaddress.IPv6Address):
            carried = _carried_ipv4(address)
            if carried is not None:
                return self._carried_refusal(*carried, port)
        for rule in _RANGES:
            if address.version == rule.network.version and address in rule.network:
                if not rule.private:
                    return rule.kind
                return None if self.allow_private else rule.kind + _PRIVATE_HINT
        if isinstance(address, ipaddress.IPv6Address) and address not in _GLOBAL_UNICAST:
            return "a reserved address (outside 2000::/3)"
        # Whatever the table above misses (ranges registered after it was written).
        return None if address.is_global else "not a public address"

    def _carried_refusal(self, form: str, inner: ipaddress.IPv4Address, port: int) -> str | None:
        if form in _NEVER_FORMS:
            # Connecting reaches the IPv4 address; no publisher publishes this form.
            return f"an {form} IPv6 address (of {inner})"
        # NAT64 and 6to4 reach the IPv4 address they carry: it must pass on its own.
        reason = self.refusal(inner, port)
        return f"a {form} address of {inner}, {reason}" if reason else None


_NEVER_FORMS: Final = frozenset({"IPv4-mapped", "IPv4-compatible"})


def _carried_ipv4(address: ipaddress.IPv6Address) -> tuple[str, ipaddress.IPv4Address] | None:
    """The form and the IPv4 address an IPv6 address carries, if it carries one."""
    if address.ipv4_mapped is not None:
        return "IPv4-mapped", address.ipv4_mapped
    if address in _IPV4_COMPATIBLE and int(address) > 1:  # not :: or ::1
        return "IPv4-compatible", ipaddress.IPv4Address(int(address))
    if address in _NAT64:
        return "NAT64", ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return "6to4", address.sixtofour
    return None


# A host whose last label is a number is an IP address to getaddrinfo (and to browsers), in
# whatever spelling inet_aton reads: 2130706433, 0x7f.1, 017700000001, 127.1.
_NUMERIC_LABEL: Final = re.compile(r"0x[0-9a-f]*|[0-9]+", re.IGNORECASE)


def _inet_aton(host: str) -> ipaddress.IPv4Address | None:
    """The IPv4 address inet_aton reads in `host` (decimal, octal, hex parts), None if none."""
    parts = host.removesuffix(".").split(".")
    if not 1 <= len(parts) <= 4:
        return None
    values: list[int] = []
    for part in parts:
        if not _NUMERIC_LABEL.fullmatch(part):
            return None
        if part[:2].lower() == "0x":
            values.append(int(part[2:] or "0", 16))
        elif len(part) > 1 and part.startswith("0"):
            if not set(part) <= set("01234567"):
                return None
            values.append(int(part, 8))
        else:
            values.append(int(part))
    # All but the last part are one byte each; the last fills the rest.
    *leading, last = values
    if any(value > 255 for value in leading) or last >= 1 << (8 * (4 - len(leading))):
        return None
    number = last
    for position, value in enumerate(leading):
        number |= value << (8 * (3 - position))
    return ipaddress.IPv4Address(number)


def _literal_address(host: str) -> IPAddress | None:
    """The IP address `host` is, None for a name.

    Raises:
        FetchRefused: `host` is an IP address in a spelling other than dotted decimal or IPv6
            (a well-known way past filters that compare text), or a number that is no address.
    """
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    last = host.removesuffix(".").rsplit(".", 1)[-1]
    if not _NUMERIC_LABEL.fullmatch(last):
        return None
    spelled = _inet_aton(host)
    if spelled is None:
        raise FetchRefused(f"{host} is neither a host name nor a valid IP address")
    raise FetchRefused(f"{host} is an unusual spelling of the IP address {spelled}")


async def resolve_host(host: str, port: int) -> list[IPAddress]:
    """Every address the system resolver gives `host`, in its order (getaddrinfo, in a thread).

    Raises:
        httpcore.ConnectError: the name does not resolve.
    """
    loop = asyncio.get_running_loop()
    try:
        found = await loop.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
        )
    except socket.gaierror as err:
        raise httpcore.ConnectError(f"cannot resolve {host}: {err.strerror or err}") from None
    addresses: list[IPAddress] = []
    for family, _type, _proto, _name, sockaddr in found:
        if family in (socket.AF_INET, socket.AF_INET6):
            address = ipaddress.ip_address(sockaddr[0])
            if address not in addresses:
                addresses.append(address)
    return addresses


async def _checked_addresses(
    host: str, port: int, policy: AddressPolicy, seconds: float | None
) -> list[IPAddress]:
    """The addresses to connect to for `host`, every one allowed by `policy`.

    A name is refused when any of its addresses is: which one a connection would use is the
    name server's choice, and a hostile one mixes public and private answers.
    """
    literal = _literal_address(host)
    if literal is not None:
        reason = policy.refusal(literal, port)
        if reason is not None:
            raise FetchRefused(f"{literal} is {reason}")
        return [literal]
    try:
        async with asyncio.timeout(seconds):
            # Looked up by name at call time, so that tests can put their own resolver here.
            addresses = await resolve_host(host, port)
    except TimeoutError:
        raise httpcore.ConnectTimeout(f"looking up {host} timed out") from None
    if not addresses:
        raise httpcore.ConnectError(f"{host} has no address")
    for address in addresses:
        reason = policy.refusal(address, port)
        if reason is not None:
            raise FetchRefused(f"{host} resolves to {address}, {reason}")
    return addresses


class _CheckingBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend with every address checked and the connection pinned to it.

    See the module docstring for why this is where the check belongs.
    """

    def __init__(self, policy: AddressPolicy) -> None:
        self._policy = policy
        self._network = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 -- httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        failure: httpcore.ConnectError | httpcore.ConnectTimeout | None = None
        for address in await _checked_addresses(host, port, self._policy, timeout):
            try:
                # An IP literal: connecting to it looks nothing up again.
                stream = await self._network.connect_tcp(
                    str(address),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as err:
                failure = err
                continue
            peer = stream.get_extra_info("server_addr")
            if peer is not None and ipaddress.ip_address(peer[0]) != address:
                await stream.aclose()
                raise FetchRefused(f"{host}: connected to {peer[0]}, not the {address} checked")
            return stream
        raise failure or httpcore.ConnectError(f"{host} has no address")

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 -- httpcore's interface
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise FetchRefused("a Unix socket is not a publisher")

    async def sleep(self, seconds: float) -> None:
        await self._network.sleep(seconds)


# --- httpx over that backend ----------------------------------------------------------------

# httpcore's errors as httpx's, most specific first, so that callers see one family of errors
# (httpx's own transport does the same for its pool, which we cannot give our backend).
_HTTPX_ERRORS: Final[tuple[tuple[type[Exception], type[httpx.TransportError]], ...]] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
)


@contextlib.contextmanager
def _as_httpx_errors() -> Iterator[None]:
    try:
        yield
    except Exception as err:
        for core, ours in _HTTPX_ERRORS:
            if isinstance(err, core):
                raise ours(str(err)) from err
        raise


class _CoreBody(httpx.AsyncByteStream):
    """An httpcore response body as httpx reads one."""

    def __init__(self, stream: AsyncIterable[bytes]) -> None:
        self._stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _as_httpx_errors():
            async for part in self._stream:
                yield part

    async def aclose(self) -> None:
        close = getattr(self._stream, "aclose", None)
        if close is not None:
            with _as_httpx_errors():
                await close()


class _PoolTransport(httpx.AsyncBaseTransport):
    """httpx requests over an httpcore pool of our making (httpx's own transport builds its
    pool itself and offers no way to give it a network backend)."""

    def __init__(self, pool: httpcore.AsyncConnectionPool) -> None:
        self._pool = pool

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not isinstance(request.stream, httpx.AsyncByteStream):
            raise TypeError("an async client sends async request bodies")
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _as_httpx_errors():
            answer = await self._pool.handle_async_request(core_request)
        if not isinstance(answer.stream, AsyncIterable):
            raise TypeError("an async pool answers with an async body")
        return httpx.Response(
            status_code=answer.status,
            headers=answer.headers,
            stream=_CoreBody(answer.stream),
            extensions=answer.extensions,
        )

    async def aclose(self) -> None:
        await self._pool.aclose()


class _HostSlots:
    """At most `limit` fetches at a time per host; a host's entry is dropped when unused."""

    def __init__(self, limit: int | None) -> None:
        self._limit = limit
        self._slots: dict[str, tuple[asyncio.Semaphore, int]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, host: str) -> AsyncIterator[None]:
        if self._limit is None:
            yield
            return
        semaphore, users = self._slots.get(host, (asyncio.Semaphore(self._limit), 0))
        self._slots[host] = (semaphore, users + 1)
        try:
            async with semaphore:
                yield
        finally:
            semaphore, users = self._slots[host]
            if users == 1:
                del self._slots[host]
            else:
                self._slots[host] = (semaphore, users - 1)


def _warn_about_proxies() -> None:
    configured = sorted(
        scheme for scheme in urllib.request.getproxies() if scheme in ("http", "https", "all")
    )
    if configured:
        logger.warning(
            "ignoring the %s proxy settings of the environment: the bot connects to publishers "
            "directly, so that it can check every address it connects to",
            ", ".join(configured),
        )


class SafeFetcher:
    """Fetches publishers' URLs under the safety rules, over one shared client.

    Use as ``async with SafeFetcher(policy) as fetcher: await fetcher.get(url, ...)``; the
    client is opened at the first fetch and closed on exit, so one fetcher serves a whole run
    (keep-alive connections are reused across its fetches).

    Args:
        policy: which addresses may be connected; strict (public only) by default.
        per_host_limit: at most this many fetches of one host (the URL's, before redirects) at
            a time, for politeness; None for no limit.
        ssl_context: the certificates trusted; by default the system's and certifi's, as
            httpx trusts them (SSL_CERT_FILE and SSL_CERT_DIR are honoured).
        user_agent: sent with every request.
    """

    def __init__(
        self,
        policy: AddressPolicy | None = None,
        *,
        per_host_limit: int | None = None,
        ssl_context: ssl.SSLContext | None = None,
        user_agent: str = USER_AGENT,
    ) -> None:
        self.policy = policy or AddressPolicy()
        self._slots = _HostSlots(per_host_limit)
        self._ssl_context = ssl_context
        self._user_agent = user_agent
        self._client: httpx.AsyncClient | None = None

    async def __aenter__(self) -> SafeFetcher:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the client and its connections."""
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()

    def _opened(self) -> httpx.AsyncClient:
        if self._client is None:
            _warn_about_proxies()
            pool = httpcore.AsyncConnectionPool(
                ssl_context=self._ssl_context or httpx.create_ssl_context(),
                max_connections=100,
                max_keepalive_connections=20,
                keepalive_expiry=5.0,
                network_backend=_CheckingBackend(self.policy),
            )
            self._client = httpx.AsyncClient(
                transport=_PoolTransport(pool),
                # No proxies from the environment (see the module docstring), no netrc.
                trust_env=False,
                follow_redirects=False,
                headers={"User-Agent": self._user_agent},
            )
        return self._client

    async def get(
        self,
        url: str,
        *,
        max_bytes: int,
        timeout: float,  # noqa: ASYNC109 -- a per-fetch budget in the contract; enforced below with asyncio.timeout
        headers: Mapping[str, str] | None = None,
    ) -> FetchResult:
        """GET `url`, following up to `MAX_REDIRECTS` redirects, each hop checked.

        Args:
            url: an http or https URL.
            max_bytes: the longest body read (after content decoding); the read stops there.
            timeout: total seconds for the whole fetch, redirects and slow servers included.
                A wait for `per_host_limit` comes before it and does not count.
            headers: added to this request and its redirects (Accept, If-None-Match, ...);
                never credentials, which would follow a redirect to another host.

        Returns:
            The final answer, whatever its status; only a 2xx answer's body is read.

        Raises:
            FetchRefused: the URL, a redirect or an address is against the safety rules.
            FetchTimedOut: the fetch took longer than `timeout`.
            FetchTooLarge: the body is longer than `max_bytes`.
            IngestError: anything else that left no answer: a bad URL, a redirect loop, a
                network or protocol error; the message says which.
        """
        target = _parse(url)
        async with self._slots.hold(target.host):
            try:
                # The client's timeout bounds each connect and read; this deadline bounds the
                # whole exchange, so a server dripping one byte at a time cannot hold us.
                async with asyncio.timeout(timeout):
                    return await self._follow(
                        target, max_bytes=max_bytes, timeout=timeout, headers=headers
                    )
            except (TimeoutError, httpx.TimeoutException):
                raise FetchTimedOut(timeout) from None
            except httpx.HTTPError as err:
                logger.debug("fetching %s failed", url, exc_info=True)
                raise IngestError(f"cannot fetch: {_http_reason(err)}") from None

    async def check(self, url: str, *, timeout: float = 10.0) -> str:  # noqa: ASYNC109 - bounds the lookup
        """`url` normalised, if it may be fetched now: the scheme, and the addresses its host
        resolves to, checked as a fetch would check them, without connecting (what `feeds add`
        and `/addfeed` ask before registering a feed). A fetch checks again each time.

        Raises:
            FetchRefused: the URL is against the safety rules (the reason says which).
            AddressNotChecked: its host does not resolve now, or the lookup timed out.
            IngestError: it is no usable URL.
        """
        target = _parse(url)
        port = target.port or (443 if target.scheme == "https" else 80)
        try:
            await _checked_addresses(target.host, port, self.policy, timeout)
        except (httpcore.NetworkError, httpcore.TimeoutException) as err:
            raise AddressNotChecked(str(target), f"cannot fetch: {err}") from None
        return str(target)

    async def _follow(
        self,
        url: httpx.URL,
        *,
        max_bytes: int,
        timeout: float,  # noqa: ASYNC109 -- the per-operation timeout, under get's deadline
        headers: Mapping[str, str] | None,
    ) -> FetchResult:
        client = self._opened()
        for hop in range(MAX_REDIRECTS + 1):
            request = client.build_request("GET", url, headers=headers, timeout=timeout)
            try:
                response = await client.send(request, stream=True)
            except FetchRefused as err:
                if hop == 0:
                    raise
                raise FetchRefused(f"redirected to {_shown(url)}; {err.reason}") from None
            try:
                if not response.has_redirect_location:
                    return await _result(response, max_bytes)
                location = response.headers["location"]
            finally:
                await response.aclose()
            if hop == MAX_REDIRECTS:
                break
            url = _redirect_target(url, location)
        raise IngestError(f"too many redirects (more than {MAX_REDIRECTS})")


def _parse(url: str) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as err:
        raise IngestError(f"invalid URL: {err}") from None
    if parsed.scheme not in ("http", "https"):
        raise FetchRefused(f"unsupported URL scheme '{parsed.scheme}:' (only http and https)")
    if not parsed.host:
        raise IngestError("invalid URL: no host")
    return parsed


def _redirect_target(current: httpx.URL, location: str) -> httpx.URL:
    try:
        target = current.join(location)
    except httpx.InvalidURL as err:
        raise IngestError(f"redirected to an invalid URL: {err}") from None
    if target.scheme not in ("http", "https"):
        raise FetchRefused(f"redirected to a URL that is not http or https ({target.scheme}:)")
    if not target.host:
        raise IngestError("redirected to a URL without a host")
    return target


def _shown(url: httpx.URL) -> str:
    """`url` for a message: without any user name or password, and not endless."""
    text = str(url.copy_with(userinfo=b""))
    return text if len(text) <= 200 else text[:199] + "…"


async def _result(response: httpx.Response, max_bytes: int) -> FetchResult:
    body = b""
    if response.is_success:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise FetchTooLarge(max_bytes)
        # Decoded bytes are counted, so a small gzip bomb is stopped too (one network read of
        # at most 64 KiB decodes to at most about 1000 times that before the count sees it).
        read = bytearray()
        async for chunk in response.aiter_bytes():
            read += chunk
            if len(read) > max_bytes:
                raise FetchTooLarge(max_bytes)
        body = bytes(read)
    return FetchResult(
        url=str(response.url), status=response.status_code, headers=response.headers, body=body
    )


def _http_reason(err: httpx.HTTPError) -> str:
    text = str(err).strip()
    return f"{type(err).__name__}: {text}" if text else type(err).__name__
