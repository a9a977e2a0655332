"""Telegram updates as the core's commands: pure translation, no SDK calls."""

from __future__ import annotations

import re
from collections.abc import Container
from dataclasses import dataclass

from telegram import CallbackQuery, Chat, Message

from bot.chat import ChatKind, UserRef, parse_command_text
from storage.models import ChatRef, Platform

# `/read_42` (tappable in Telegram) and the deep-link payload `read_42` stand for `/read 42`.
_SUFFIX_COMMAND = re.compile(r"^([a-z]+)_([A-Za-z0-9-]+)$")
# A chat that a private-chat command may be aimed at: `@channelname` or a numeric chat id.
_TARGET = re.compile(r"^(@[A-Za-z][A-Za-z0-9_]{3,31}|-100\d{5,})$")


@dataclass(frozen=True, slots=True)
class Incoming:
    """A command as Telegram delivered it, before the adapter checks who may do what."""

    name: str
    args: str
    chat: ChatRef
    kind: ChatKind
    user: UserRef
    # The message to answer to in a group; None for callbacks and channel posts.
    message_id: int | None
    # The sender speaks for the chat itself: a channel post, or a group's anonymous admin.
    speaks_for_chat: bool
    # The forum topic the command was posted in, so that every part of the answer lands there.
    thread_id: int | None = None


def chat_ref(chat_id: int) -> ChatRef:
    """The core's reference to a Telegram chat."""
    return ChatRef(Platform.TELEGRAM, str(chat_id))


def chat_kind(chat_type: str) -> ChatKind:
    """Private chat, group (groups and supergroups), or channel, from Telegram's chat type."""
    if chat_type == Chat.CHANNEL:
        return ChatKind.CHANNEL
    if chat_type in (Chat.GROUP, Chat.SUPERGROUP):
        return ChatKind.GROUP
    return ChatKind.PRIVATE


def command_from_message(
    message: Message, *, bot_username: str, known: Container[str], linkable: Container[str]
) -> Incoming | None:
    """The command in a message or channel post; None if it is none of ours.

    Commands addressed to another bot (`/latest@otherbot`), messages from bots and a linked
    channel's automatic forwards into its discussion group are not ours; nor, in a group or
    channel, is a command we do not know that names no bot (it is likely another bot's).
    `linkable` are the commands a link may run (see `expand_command`).
    """
    if not message.text or message.is_automatic_forward:
        return None
    sender = message.sender_chat
    # Another bot. (Anonymous group admins and users posting as a channel also arrive "from" a
    # bot account of Telegram's, but with `sender_chat` set: those are people.)
    if message.from_user is not None and message.from_user.is_bot and sender is None:
        return None
    parsed = parse_command_text(message.text)
    if parsed is None:
        return None
    name, addressed_to, args = parsed
    if addressed_to and addressed_to.lower() != bot_username.lower():
        return None
    name, args = expand_command(name, args, linkable)
    kind = chat_kind(message.chat.type)
    if kind is not ChatKind.PRIVATE and not addressed_to and name not in known:
        return None
    if kind is ChatKind.CHANNEL or sender is not None or message.from_user is None:
        speaker = sender or message.chat
        user = UserRef(str(speaker.id), speaker.title or speaker.username or "", is_chat=True)
        speaks_for_chat = kind is ChatKind.CHANNEL or speaker.id == message.chat.id
    else:
        user = UserRef(str(message.from_user.id), message.from_user.full_name)
        speaks_for_chat = False
    return Incoming(
        name=name,
        args=args,
        chat=chat_ref(message.chat.id),
        kind=kind,
        user=user,
        message_id=None if kind is ChatKind.CHANNEL else message.message_id,
        speaks_for_chat=speaks_for_chat,
        thread_id=message.message_thread_id if message.is_topic_message else None,
    )


def command_from_callback(
    query: CallbackQuery, *, linkable: Container[str], admin: Container[str] = ()
) -> Incoming | None:
    """The command a pressed button carries; None for stale or foreign button data.

    Our buttons carry commands that change nothing (`linkable`), and the desk's Send and Cancel
    (`admin` commands: the dispatcher refuses them to whoever is not a bot admin).
    """
    message = query.message
    if message is None or not query.data:
        return None
    parsed = parse_command_text(query.data)
    if parsed is None:
        return None
    name, _, args = parsed
    name, args = expand_command(name, args, linkable)
    if name not in linkable and name not in admin:
        # Not a command our buttons carry: the data was not ours.
        return None
    topic = isinstance(message, Message) and message.is_topic_message
    thread_id = message.message_thread_id if topic and isinstance(message, Message) else None
    return Incoming(
        name=name,
        args=args,
        chat=chat_ref(message.chat.id),
        kind=chat_kind(message.chat.type),
        user=UserRef(str(query.from_user.id), query.from_user.full_name),
        message_id=None,
        speaks_for_chat=False,
        thread_id=thread_id,
    )


def expand_command(name: str, args: str, linkable: Container[str]) -> tuple[str, str]:
    """`/read_42` → (`read`, `42`), and `/start read_42` (a deep link) likewise.

    Only `linkable` commands expand: ones that change nothing. Anyone can post a tappable
    `/unsubscribe_all` or a `t.me/bot?start=unsubscribe_all` link, and whoever taps it must not
    lose their subscriptions.
    """
    match = _SUFFIX_COMMAND.match(name)
    if match and match.group(1) in linkable:
        return match.group(1), f"{match.group(2)} {args}".strip()
    if name == "start":
        match = _SUFFIX_COMMAND.match(args)
        if match and match.group(1) in linkable and match.group(1) != "start":
            return match.group(1), match.group(2)
    return name, args


def split_target(args: str) -> tuple[str | None, str]:
    """A trailing `@channel` or chat id in the arguments, and the arguments without it."""
    words = args.split()
    if words and _TARGET.match(words[-1]):
        return words[-1], " ".join(words[:-1])
    return None, args
