"""Adapter-neutral delivery errors: each adapter translates its SDK's errors into these."""

from __future__ import annotations


class DeliveryError(Exception):
    """A send did not happen; the subclass says what to do about it."""


class RetryAfter(DeliveryError):
    """The platform asks us to wait exactly `seconds` before sending to this chat again."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds:g} s")
        self.seconds = seconds


class ChatGone(DeliveryError):
    """The chat will never take a message again: the bot was blocked or kicked, or it is gone."""


class ChatMoved(DeliveryError):
    """The chat has a new id (a Telegram group became a supergroup)."""

    def __init__(self, new_chat_id: str) -> None:
        super().__init__(f"chat moved to {new_chat_id}")
        self.new_chat_id = new_chat_id


class TransientError(DeliveryError):
    """A failure that may pass: a time-out, a network error, a server error."""


class PermanentError(DeliveryError):
    """The platform refused this message (bad request); sending it again would fail again."""


class OutputClosed(DeliveryError):
    """The platform can take no more messages from this process (a console whose reader went
    away): the row goes back as it was, due at once, and this process stops delivering."""


class UnknownOutcome(DeliveryError):
    """The request went out but no answer came (a timeout while waiting for it): the message
    may or may not have arrived. Sent again at most once, and then marked a possible
    duplicate."""
