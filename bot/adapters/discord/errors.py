"""discord.py's errors as the core's delivery errors."""

from __future__ import annotations

import aiohttp
import discord

from bot.delivery.errors import (
    ChatGone,
    DeliveryError,
    PermanentError,
    RetryAfter,
    TransientError,
)

# Discord restricts an IP for about an hour once it makes 10,000 invalid requests (401, 403,
# 429) in 10 minutes; Cloudflare then answers 429 without Discord's `Via` header. A refused
# token (401) or such a restriction fails every send alike, so each chat's queue pauses this
# long instead of spending its tries. Ten minutes is the window the invalid requests are
# counted over: a queue then adds at most one to each window, so the bot's own retries cannot
# bring about (or prolong) a restriction, and the stories still go out within minutes of its
# end. Python-telegram-bot's InvalidToken gets the same treatment (a RetryAfter pause) for the
# same reason; Discord's is longer because its refusals count towards a ban.
INVALID_REQUEST_PAUSE_SECONDS = 600.0

# Discord's JSON error codes that mean the channel takes no message from the bot any more
# (not this message's fault). A manager can subscribe the channel again once it is fixed.
_GONE_FORBIDDEN = {
    50001: "missing access: the bot cannot see the channel (removed from the server, or the "
    "channel hidden from it)",
    50013: "missing permissions: the bot may not post in the channel (it needs View Channel, "
    "Send Messages and Embed Links)",
    50007: "cannot send messages to this user (direct messages closed, or no server shared)",
}
_GONE_NOT_FOUND = {
    10003: "unknown channel: the channel was deleted",
    10004: "unknown guild: the server was deleted, or the bot removed from it",
    10013: "unknown user: the account was deleted",
}


def delivery_error(error: Exception) -> DeliveryError:
    """What the delivery loop should do about `error`, raised by a discord.py call."""
    if isinstance(error, discord.RateLimited):
        # discord.py waits out a rate limit itself unless the wait is longer than the client's
        # `max_ratelimit_timeout`: then the chat's queue waits instead, exactly that long.
        return RetryAfter(error.retry_after)
    if isinstance(error, discord.HTTPException):
        return _refused(error)
    if isinstance(error, discord.LoginFailure):
        return RetryAfter(INVALID_REQUEST_PAUSE_SECONDS)
    if isinstance(error, aiohttp.ClientError | OSError):
        # A time-out (asyncio's TimeoutError is the builtin one, an OSError), a refused or
        # lost connection. Unlike a Telegram time-out this is no unknown outcome: the adapter
        # sends every message with a nonce derived from its outbox row, and discord.py sets
        # `enforce_nonce`, so if the first try did arrive Discord answers the resend with that
        # message instead of posting it twice (within the few minutes Discord remembers a
        # nonce for; a resend after that may show the message twice).
        return TransientError(f"{type(error).__name__}: {error}")
    # The unforeseen: not known to be this message's fault. Tried again later, with backoff,
    # until the delivery loop gives up with this as the reason.
    return TransientError(f"unexpected {type(error).__name__}: {error}")


# Discord's code for a webhook or interaction token it no longer takes (15 minutes after).
INVALID_WEBHOOK_TOKEN = 50027
# When Discord's own 429 gives no usable wait.
DEFAULT_RETRY_AFTER_SECONDS = 1.0


def refuses_every_request(error: Exception) -> bool:
    """Whether `error` means Discord takes no request from the bot at all for now: a refused
    token, or Cloudflare restricting the bot's address (a 429 without Discord's `Via`
    header). Every send then pauses; one chat's queue waiting alone would not stop the rest
    from adding invalid requests."""
    if not isinstance(error, discord.HTTPException):
        return isinstance(error, discord.LoginFailure)
    if error.status == 401:
        # An interaction's expired token is refused with 401 too: that one answer is lost,
        # the bot's own token is fine.
        return error.code != INVALID_WEBHOOK_TOKEN
    return error.status == 429 and not _from_discord(error)


def _from_discord(error: discord.HTTPException) -> bool:
    """The answer came through Discord's API (Discord sets `Via`), not from Cloudflare."""
    headers = getattr(error.response, "headers", None)
    return bool(headers and headers.get("Via"))


def _refused(error: discord.HTTPException) -> DeliveryError:
    """Discord (or Cloudflare in front of it) answered with an HTTP error."""
    if error.status == 429:
        return _rate_limited(error)
    if error.status == 401:
        return _unauthorized(error)
    if error.status >= 500:
        return TransientError(str(error))
    if isinstance(error, discord.Forbidden):
        reason = _GONE_FORBIDDEN.get(error.code)
    elif isinstance(error, discord.NotFound):
        # 10008 Unknown Message (an edit or deletion of a message someone removed) is not in
        # the table: that message is gone, not the chat.
        reason = _GONE_NOT_FOUND.get(error.code)
    else:
        reason = None
    if reason is not None:
        return ChatGone(f"{reason} (Discord {error.code}: {error.text})")
    # 400 Invalid Form Body, and refusals of this message alone (a 403 for content Discord's
    # filters block): sending it again would fail again.
    return PermanentError(str(error))


def _retry_after(error: discord.HTTPException) -> float:
    """The wait Discord's 429 asked for, from its Retry-After header."""
    headers = getattr(error.response, "headers", None) or {}
    try:
        return max(float(headers.get("Retry-After", "")), 0.0)
    except ValueError:
        return DEFAULT_RETRY_AFTER_SECONDS


def _rate_limited(error: discord.HTTPException) -> DeliveryError:
    if _from_discord(error):
        # discord.py waited out Discord's 429 and retried, five times, and was refused each
        # time (a broadcast over the global limit): this chat's queue waits what Discord
        # asked, its row keeping its place.
        return RetryAfter(_retry_after(error))
    # Without Discord's `Via` header: Cloudflare's restriction of the bot's IP, which retrying
    # at once would only prolong.
    return RetryAfter(INVALID_REQUEST_PAUSE_SECONDS)


def _unauthorized(error: discord.HTTPException) -> DeliveryError:
    if error.code == INVALID_WEBHOOK_TOKEN:
        return PermanentError(f"the interaction's token has expired ({error.text})")
    # The bot's token was refused (reset, or the application deleted).
    return RetryAfter(INVALID_REQUEST_PAUSE_SECONDS)
