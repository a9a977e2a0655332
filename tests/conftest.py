"""Fixtures: settings on a real SQLite file per test, the wired app, a fake platform."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import App, open_app
from bot.settings import Settings
from tests.support import FakeClock, FakePlatform


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings on a fresh database file, ignoring the developer's .env and environment."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]  # pydantic-settings' init-only option
        database=str(tmp_path / "newsbot.db"),
        admins=frozenset({"telegram:1"}),
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def app(settings: Settings, clock: FakeClock) -> AsyncIterator[App]:
    async with open_app(settings, clock=clock) as opened:
        yield opened


@pytest.fixture
def platform(app: App) -> FakePlatform:
    return FakePlatform(app)


@pytest.fixture(autouse=True)
def no_network_beyond_loopback(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """Fail any test whose process tries to connect anywhere but 127.0.0.1 (or ::1).

    The attempt is refused and also recorded, so a test cannot pass by swallowing the error.
    """
    attempts: list[object] = []
    real_connect = socket.socket.connect
    real_getaddrinfo = socket.getaddrinfo

    def connect(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(address[0]):
            attempts.append(address)
            raise ConnectionRefusedError(f"tests may not reach {address}")
        real_connect(sock, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None and not _loopback(host):
            attempts.append(host)
            raise socket.gaierror(f"tests may not look up {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield attempts
    assert attempts == [], f"the test tried to reach the network: {attempts}"


def _loopback(host: object) -> bool:
    name = host.decode() if isinstance(host, bytes) else str(host)
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
