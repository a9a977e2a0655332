"""python-telegram-bot's errors as the core's delivery errors."""

from __future__ import annotations

from datetime import timedelta

import httpx
from telegram import error as tg_error

from bot.delivery.errors import (
    ChatGone,
    ChatMoved,
    DeliveryError,
    PermanentError,
    RetryAfter,
    TransientError,
    UnknownOutcome,
)

# Bad requests that mean the chat takes no message from the bot any more (deleted, the bot
# demoted or muted), not that this message was wrong. A manager can subscribe the chat again.
_GONE_MARKERS = (
    "chat not found",
    "user is deactivated",
    "peer_id_invalid",
    "group chat was deactivated",
    "need administrator rights",
    "not enough rights to send",
    "have no rights to send",
    "chat_write_forbidden",
)
# When the token is refused every send fails alike: pause rather than spend each row's tries.
INVALID_TOKEN_PAUSE_SECONDS = 60.0


def delivery_error(error: tg_error.TelegramError) -> DeliveryError:
    """What the delivery loop should do about `error`."""
    if isinstance(error, tg_error.RetryAfter):
        return RetryAfter(retry_after_seconds(error))
    if isinstance(error, tg_error.ChatMigrated):
        return ChatMoved(str(error.new_chat_id))
    if isinstance(error, tg_error.Forbidden):
        # Blocked by the user, kicked from the group or channel, or the user deleted.
        return ChatGone(error.message)
    # BadRequest subclasses NetworkError, so it is tested first: it must never be retried.
    if isinstance(error, tg_error.BadRequest):
        gone = any(marker in error.message.lower() for marker in _GONE_MARKERS)
        return ChatGone(error.message) if gone else PermanentError(error.message)
    if isinstance(error, tg_error.InvalidToken):
        return RetryAfter(INVALID_TOKEN_PAUSE_SECONDS)
    return _not_answered(error)


def _not_answered(error: tg_error.TelegramError) -> DeliveryError:
    """A time-out, a lost connection, a server error, Conflict and the unforeseen: not this
    message's fault. Tried again later, but a message that may have arrived only once more."""
    if isinstance(error, tg_error.TimedOut) and not _never_sent(error):
        # The request went out and no answer came in time: Telegram may have taken it.
        return UnknownOutcome(error.message)
    detail = error.message
    if not isinstance(error, tg_error.NetworkError):
        detail = f"{type(error).__name__}: {detail}"
    return TransientError(detail)


def _never_sent(error: tg_error.TimedOut) -> bool:
    """A time-out before the request was written: no connection, or none free in the pool."""
    return isinstance(error.__cause__, httpx.ConnectTimeout | httpx.PoolTimeout) or (
        "not* sent" in error.message
    )


def retry_after_seconds(error: tg_error.RetryAfter) -> float:
    """The wait Telegram asked for, in seconds, in either form PTB 22 gives it."""
    value = error.retry_after
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)
