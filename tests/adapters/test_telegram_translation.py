"""Pure translations between PTB and the core: errors into delivery errors, updates into
commands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from telegram import CallbackQuery, Chat, Message, User
from telegram import error as tg_error

from bot.adapters.telegram.errors import delivery_error
from bot.adapters.telegram.updates import (
    command_from_callback,
    command_from_message,
    expand_command,
    split_target,
)
from bot.chat import ChatKind
from bot.delivery.errors import (
    ChatGone,
    ChatMoved,
    PermanentError,
    RetryAfter,
    TransientError,
    UnknownOutcome,
)

KNOWN = {"start", "help", "latest", "read", "subscribe", "unsubscribe"}
LINKABLE = {"start", "help", "latest", "read"}
WHEN = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)


def _timed_out_by(cause: Exception) -> tg_error.TimedOut:
    """PTB's TimedOut as its HTTPX transport raises it, `from` the transport's time-out."""
    error = tg_error.TimedOut()
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (tg_error.Forbidden("Forbidden: bot was blocked by the user"), ChatGone),
        (tg_error.Forbidden("Forbidden: bot was kicked from the supergroup chat"), ChatGone),
        (tg_error.BadRequest("Bad Request: chat not found"), ChatGone),
        (tg_error.BadRequest("Bad Request: can't parse entities"), PermanentError),
        (tg_error.BadRequest("Bad Request: message is too long"), PermanentError),
        (
            tg_error.BadRequest("Bad Request: need administrator rights in the channel chat"),
            ChatGone,
        ),
        (tg_error.BadRequest("Bad Request: not enough rights to send text messages"), ChatGone),
        (tg_error.BadRequest("Bad Request: group chat was deactivated"), ChatGone),
        # No answer after the request went out: it may have arrived.
        (tg_error.TimedOut(), UnknownOutcome),
        (_timed_out_by(httpx.ReadTimeout("read")), UnknownOutcome),
        # Never written: no connection, or none free in the pool. Safe to try again.
        (_timed_out_by(httpx.ConnectTimeout("connect")), TransientError),
        (_timed_out_by(httpx.PoolTimeout("pool")), TransientError),
        (tg_error.NetworkError("Bad Gateway"), TransientError),
        (tg_error.Conflict("terminated by other getUpdates request"), TransientError),
    ],
)
def test_ptb_errors_become_delivery_errors(error: tg_error.TelegramError, expected: type) -> None:
    assert type(delivery_error(error)) is expected


def test_a_refused_token_pauses_instead_of_spending_attempts() -> None:
    pause = delivery_error(tg_error.InvalidToken())
    assert isinstance(pause, RetryAfter)
    assert pause.seconds == 60.0


def test_a_forged_button_with_a_changing_command_is_ignored() -> None:
    message = _message("…", Chat(5, Chat.PRIVATE))
    query = CallbackQuery("q1", PERSON, "inst", message=message, data="/unsubscribe all")
    assert command_from_callback(query, linkable=LINKABLE) is None


def test_an_unknown_command_in_a_group_is_left_to_other_bots() -> None:
    def incoming(text: str) -> object:
        return command_from_message(
            _message(text, GROUP, PERSON),
            bot_username="berita_test_bot",
            known=KNOWN,
            linkable=LINKABLE,
        )

    assert incoming("/ban spammer") is None
    addressed = incoming("/ban@berita_test_bot spammer")
    assert addressed is not None  # addressed to us: it gets the unknown-command answer


def test_a_command_in_a_forum_topic_keeps_its_topic() -> None:
    message = _message("/latest nato", GROUP, PERSON, is_topic_message=True, message_thread_id=77)
    incoming = command_from_message(
        message, bot_username="berita_test_bot", known=KNOWN, linkable=LINKABLE
    )
    assert incoming is not None
    assert incoming.thread_id == 77


def test_chat_migrated_carries_the_new_id() -> None:
    moved = delivery_error(tg_error.ChatMigrated(-1009999999999))
    assert isinstance(moved, ChatMoved)
    assert moved.new_chat_id == "-1009999999999"


@pytest.mark.parametrize("retry_after", [7, timedelta(seconds=7)])
def test_retry_after_keeps_the_exact_wait(retry_after: int | timedelta) -> None:
    wait = delivery_error(tg_error.RetryAfter(retry_after))
    assert isinstance(wait, RetryAfter)
    assert wait.seconds == 7.0


def _message(text: str, chat: Chat, user: User | None = None, **extra: object) -> Message:
    return Message(1, WHEN, chat, from_user=user, text=text, **extra)  # type: ignore[arg-type]  # PTB's optional fields


PERSON = User(5, "Rina", is_bot=False)
GROUP = Chat(-1001234567890, Chat.SUPERGROUP, title="Grup Diskusi")
CHANNEL = Chat(-1001987654321, Chat.CHANNEL, title="Kanal")


def test_group_command_addressed_to_us_or_to_no_one() -> None:
    for text in ("/latest nato", "/latest@Berita_Test_Bot nato"):
        incoming = command_from_message(
            _message(text, GROUP, PERSON),
            bot_username="berita_test_bot",
            known=KNOWN,
            linkable=LINKABLE,
        )
        assert incoming is not None
        assert (incoming.name, incoming.args, incoming.kind) == ("latest", "nato", ChatKind.GROUP)
        assert incoming.user.user_id == "5"
        assert not incoming.user.is_chat  # a person: /whoami can name them
        assert not incoming.speaks_for_chat


def test_not_ours_another_bot_a_bot_sender_or_an_automatic_forward() -> None:
    other = _message("/latest@other_bot nato", GROUP, PERSON)
    from_bot = _message("/latest nato", GROUP, User(9, "Bot", is_bot=True))
    forward = _message("/latest nato", GROUP, PERSON, is_automatic_forward=True)
    for message in (other, from_bot, forward):
        assert (
            command_from_message(
                message, bot_username="berita_test_bot", known=KNOWN, linkable=LINKABLE
            )
            is None
        )


def test_a_channel_post_speaks_for_the_channel() -> None:
    incoming = command_from_message(
        _message("/subscribe nasional", CHANNEL, sender_chat=CHANNEL),
        bot_username="berita_test_bot",
        known=KNOWN,
        linkable=LINKABLE,
    )
    assert incoming is not None
    assert incoming.kind is ChatKind.CHANNEL
    assert incoming.speaks_for_chat
    assert incoming.user.is_chat  # no person: /whoami must not give the channel's id
    assert incoming.message_id is None


def test_an_anonymous_group_admin_speaks_for_the_group() -> None:
    anonymous = User(1087968824, "Group", is_bot=True)  # Telegram's GroupAnonymousBot
    incoming = command_from_message(
        _message("/subscribe nasional", GROUP, anonymous, sender_chat=GROUP),
        bot_username="berita_test_bot",
        known=KNOWN,
        linkable=LINKABLE,
    )
    assert incoming is not None
    assert incoming.speaks_for_chat
    assert incoming.user.user_id == str(GROUP.id)
    assert incoming.user.is_chat


def test_a_member_posting_as_their_channel_does_not_speak_for_the_group() -> None:
    channel_bot = User(136817688, "Channel", is_bot=True)  # Telegram's Channel_Bot
    incoming = command_from_message(
        _message("/subscribe nasional", GROUP, channel_bot, sender_chat=CHANNEL),
        bot_username="berita_test_bot",
        known=KNOWN,
        linkable=LINKABLE,
    )
    assert incoming is not None
    assert not incoming.speaks_for_chat
    assert incoming.user.user_id == str(CHANNEL.id)
    assert incoming.user.is_chat


def test_a_callback_is_a_command_from_the_presser() -> None:
    message = _message("…", Chat(5, Chat.PRIVATE))
    query = CallbackQuery("q1", PERSON, "inst", message=message, data="/read 42")
    incoming = command_from_callback(query, linkable=LINKABLE)
    assert incoming is not None
    assert (incoming.name, incoming.args, incoming.chat.chat_id) == ("read", "42", "5")


@pytest.mark.parametrize(
    ("name", "args", "expected"),
    [
        ("read_42", "", ("read", "42")),
        ("start", "read_42", ("read", "42")),
        ("start", "", ("start", "")),
        ("start", "start_1", ("start", "start_1")),
        ("start", "sihir_1", ("start", "sihir_1")),
        ("latest", "nato", ("latest", "nato")),
        ("sihir_1", "", ("sihir_1", "")),
        # A link must not change anything: only commands that read expand.
        ("unsubscribe_all", "", ("unsubscribe_all", "")),
        ("start", "unsubscribe_all", ("start", "unsubscribe_all")),
        ("start", "lang_en", ("start", "lang_en")),
    ],
)
def test_expand_command(name: str, args: str, expected: tuple[str, str]) -> None:
    assert expand_command(name, args, LINKABLE) == expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("internasional @kanalberita", ("@kanalberita", "internasional")),
        ("internasional ekonomi -1001987654321", ("-1001987654321", "internasional ekonomi")),
        ("internasional", (None, "internasional")),
        ("internasional @ab", (None, "internasional @ab")),
        ("internasional -42", (None, "internasional -42")),
    ],
)
def test_split_target(args: str, expected: tuple[str | None, str]) -> None:
    assert split_target(args) == expected
