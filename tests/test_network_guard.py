"""The guard that keeps every test off the network works (or the other tests prove nothing)."""

from __future__ import annotations

import socket

import pytest


def test_connecting_beyond_loopback_is_refused_and_recorded(
    no_network_beyond_loopback: list[object],
) -> None:
    with socket.socket() as sock, pytest.raises(ConnectionRefusedError):
        sock.connect(("192.0.2.1", 443))  # TEST-NET-1: never a real host
    with pytest.raises(socket.gaierror):
        socket.getaddrinfo("api.telegram.org", 443)

    assert no_network_beyond_loopback == [("192.0.2.1", 443), "api.telegram.org"]
    no_network_beyond_loopback.clear()  # recorded attempts fail a test at teardown


def test_loopback_stays_open() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.socket() as client:
            client.connect(server.getsockname())
