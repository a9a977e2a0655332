"""discord.py's errors as delivery outcomes: rate limits, gone channels, bans, bad requests."""

from __future__ import annotations

from typing import Any
from unittest.mock import Mock

import aiohttp
import discord
import pytest

from bot.adapters.discord.errors import (
    INVALID_REQUEST_PAUSE_SECONDS,
    delivery_error,
    refuses_every_request,
)
from bot.delivery.errors import ChatGone, PermanentError, RetryAfter, TransientError

# Discord counts invalid requests (401, 403, 429) over ten minutes.
INVALID_REQUEST_WINDOW_SECONDS = 600


def response(status: int, reason: str, headers: dict[str, str] | None = None) -> Mock:
    """The aiohttp response discord.py's HTTPException reads its status and reason from."""
    return Mock(spec=aiohttp.ClientResponse, status=status, reason=reason, headers=headers or {})


def body(code: int, message: str, **more: Any) -> dict[str, Any]:
    """An error body as Discord's API sends it."""
    return {"code": code, "message": message, **more}


@pytest.mark.parametrize(
    ("code", "message", "reason"),
    [
        (50001, "Missing Access", "missing access"),
        (50013, "Missing Permissions", "missing permissions"),
        (50007, "Cannot send messages to this user", "cannot send messages to this user"),
    ],
)
def test_a_channel_the_bot_may_not_post_in_is_gone(code: int, message: str, reason: str) -> None:
    error = discord.Forbidden(response(403, "Forbidden"), body(code, message))

    outcome = delivery_error(error)

    assert isinstance(outcome, ChatGone)
    assert reason in str(outcome)
    assert str(code) in str(outcome)


def test_missing_permissions_names_what_the_bot_needs() -> None:
    error = discord.Forbidden(response(403, "Forbidden"), body(50013, "Missing Permissions"))

    assert "Send Messages" in str(delivery_error(error))


def test_a_message_refused_by_discords_filters_is_not_the_channel_gone() -> None:
    error = discord.Forbidden(
        response(403, "Forbidden"),
        body(20009, "Explicit content cannot be sent to the desired recipient(s)"),
    )

    outcome = delivery_error(error)

    assert isinstance(outcome, PermanentError)
    assert "Explicit content" in str(outcome)


@pytest.mark.parametrize(
    ("code", "message"),
    [(10003, "Unknown Channel"), (10004, "Unknown Guild"), (10013, "Unknown User")],
)
def test_an_unknown_channel_guild_or_user_is_gone(code: int, message: str) -> None:
    outcome = delivery_error(discord.NotFound(response(404, "Not Found"), body(code, message)))

    assert isinstance(outcome, ChatGone)
    assert message.lower() in str(outcome).lower()


def test_an_unknown_message_is_permanent_not_the_chat_gone() -> None:
    # An edit or deletion of a message someone already removed.
    error = discord.NotFound(response(404, "Not Found"), body(10008, "Unknown Message"))

    outcome = delivery_error(error)

    assert isinstance(outcome, PermanentError)
    assert "Unknown Message" in str(outcome)


def test_an_expired_interaction_is_permanent() -> None:
    error = discord.NotFound(response(404, "Not Found"), body(10062, "Unknown interaction"))

    assert isinstance(delivery_error(error), PermanentError)


def test_a_rate_limit_too_long_for_discord_py_to_wait_is_waited_out_exactly() -> None:
    outcome = delivery_error(discord.RateLimited(12.5))

    assert isinstance(outcome, RetryAfter)
    assert outcome.seconds == 12.5


def test_a_cloudflare_429_pauses_for_the_whole_counting_window() -> None:
    # discord.py raises a bare HTTPException for a 429 without Discord's Via header.
    error = discord.HTTPException(response(429, "Too Many Requests"), "error code: 1015")

    outcome = delivery_error(error)

    assert isinstance(outcome, RetryAfter)
    assert outcome.seconds == INVALID_REQUEST_PAUSE_SECONDS
    assert outcome.seconds >= INVALID_REQUEST_WINDOW_SECONDS


def test_a_refused_token_pauses_like_telegrams_invalid_token() -> None:
    error = discord.HTTPException(response(401, "Unauthorized"), body(0, "401: Unauthorized"))

    outcome = delivery_error(error)

    assert isinstance(outcome, RetryAfter)
    assert outcome.seconds >= INVALID_REQUEST_WINDOW_SECONDS
    login = delivery_error(discord.LoginFailure("Improper token has been passed."))
    assert isinstance(login, RetryAfter)
    assert login.seconds == outcome.seconds


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_server_error_is_transient(status: int) -> None:
    server = discord.DiscordServerError(response(status, "Server Error"), "upstream")
    bare = discord.HTTPException(response(status, "Server Error"), "upstream")

    assert isinstance(delivery_error(server), TransientError)
    assert isinstance(delivery_error(bare), TransientError)


@pytest.mark.parametrize(
    "error",
    [
        TimeoutError(),  # asyncio.TimeoutError too: the same class since Python 3.11
        aiohttp.ServerTimeoutError("read timed out"),
        aiohttp.ServerDisconnectedError(),
        aiohttp.ClientConnectionError("connection lost"),
        ConnectionResetError(104, "Connection reset by peer"),
        OSError(101, "Network is unreachable"),
    ],
)
def test_a_network_failure_or_time_out_is_transient(error: Exception) -> None:
    # Not an unknown outcome: the resend carries the same nonce, which Discord de-duplicates.
    assert isinstance(delivery_error(error), TransientError)


def test_a_bad_request_is_permanent_with_discords_explanation() -> None:
    error = discord.HTTPException(
        response(400, "Bad Request"),
        body(
            50035,
            "Invalid Form Body",
            errors={
                "embeds": {
                    "0": {
                        "description": {
                            "_errors": [
                                {
                                    "code": "BASE_TYPE_MAX_LENGTH",
                                    "message": "Must be 4096 or fewer in length.",
                                }
                            ]
                        }
                    }
                }
            },
        ),
    )

    outcome = delivery_error(error)

    assert isinstance(outcome, PermanentError)
    assert "Invalid Form Body" in str(outcome)
    assert "embeds.0.description" in str(outcome)
    assert "4096" in str(outcome)


def test_a_refused_request_is_never_transient() -> None:
    # 4xx answers count towards Discord's invalid-request ban: none may be retried at once.
    for status, reason in [(400, "Bad Request"), (403, "Forbidden"), (404, "Not Found")]:
        error = discord.HTTPException(response(status, reason), body(0, reason))
        assert not isinstance(delivery_error(error), TransientError), status


def test_anything_else_is_transient_and_named() -> None:
    outcome = delivery_error(discord.ClientException("something unforeseen"))

    assert isinstance(outcome, TransientError)
    assert "ClientException" in str(outcome)


def test_discords_own_429_after_discord_py_gave_up_delays_that_chat_only() -> None:
    # discord.py waits out Discord's 429 and retries five times; then it raises it as is.
    headers = {"Via": "1.1 google", "Retry-After": "2.5"}
    error = discord.HTTPException(
        response(429, "Too Many Requests", headers),
        body(0, "You are being rate limited.", retry_after=2.5, **{"global": True}),
    )

    outcome = delivery_error(error)

    assert isinstance(outcome, RetryAfter)
    assert outcome.seconds == 2.5
    assert not refuses_every_request(error)


def test_a_refused_token_or_an_edge_ban_refuses_every_request() -> None:
    banned = discord.HTTPException(response(429, "Too Many Requests"), "error code: 1015")
    refused = discord.HTTPException(response(401, "Unauthorized"), body(0, "401: Unauthorized"))
    gone = discord.Forbidden(response(403, "Forbidden"), body(50013, "Missing Permissions"))

    assert refuses_every_request(banned)
    assert refuses_every_request(refused)
    assert not refuses_every_request(gone)


def test_an_expired_interaction_token_loses_that_answer_only() -> None:
    # Editing an interaction's answer after 15 minutes: Discord refuses the token with a 401
    # of its own code, which says nothing about the bot's token.
    error = discord.HTTPException(
        response(401, "Unauthorized", {"Via": "1.1 google"}), body(50027, "Invalid Webhook Token")
    )

    assert isinstance(delivery_error(error), PermanentError)
    assert not refuses_every_request(error)
