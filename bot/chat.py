"""The neutral vocabulary between adapters and handlers: commands in, replies out."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from storage.models import ChatRef, Platform


class ChatKind(enum.StrEnum):
    """What sort of chat a command came from."""

    PRIVATE = "private"
    GROUP = "group"
    CHANNEL = "channel"


@dataclass(frozen=True, slots=True)
class UserRef:
    """The person who sent a command, as their platform knows them.

    `is_chat` marks a command posted in a chat's own name (a Telegram channel post, an
    anonymous group admin, a member posting as their channel): `user_id` is then that chat's
    id, and no person's id is known.
    """

    user_id: str
    display_name: str = ""
    is_chat: bool = False


@dataclass(frozen=True, slots=True)
class Command:
    """One chat command, translated by an adapter from its platform's update.

    `can_manage_chat` is the adapter's finding (Telegram getChatMember, a channel post, Discord
    permissions) that the user may change this chat's settings; in a private chat it is True.
    `language` is the chat's UI language, set by the dispatcher before a handler runs.
    `options` holds the values of the command's declared parameters when the platform asked
    for each one (Discord's typed options; `args` is then those values written as text):
    a handler whose text form is ambiguous (a query whose first word names a section, a `|`
    inside a headline) reads them instead. Empty when the arguments were typed as text.
    """

    name: str
    args: str
    chat: ChatRef
    user: UserRef
    chat_kind: ChatKind = ChatKind.PRIVATE
    can_manage_chat: bool = True
    language: str = "id"
    options: Mapping[str, str] = field(default_factory=dict)

    @property
    def actor(self) -> str:
        """The user as `platform:user_id`, the form NEWSBOT_ADMINS and the audit log use."""
        return actor_of(self.chat.platform, self.user.user_id)


def actor_of(platform: Platform, user_id: str) -> str:
    """A user as `platform:user_id`, the form NEWSBOT_ADMINS and the audit log use."""
    return f"{platform.value}:{user_id}"


@dataclass(frozen=True, slots=True)
class Text:
    """A block of plain text; paragraphs are separated by blank lines. Adapters escape it."""

    content: str


@dataclass(frozen=True, slots=True)
class ArticleCard:
    """An article as a card: what a push or a search result shows of it.

    A `preview` card is a story not stored yet (a /breaking draft): it has no number, and
    nothing to read, so adapters show neither.
    """

    article_id: int
    title: str
    section_name: str
    time_label: str
    url: str | None = None
    summary: str = ""
    image_url: str | None = None
    badge: str = ""
    preview: bool = False
    # When it was published (aware), for platforms that show a timestamp of their own (Discord
    # embeds); `time_label` is what every platform prints.
    published_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Button:
    """A button that, pressed, sends `command` (e.g. `/read 42`) as if the user typed it."""

    label: str
    command: str


@dataclass(frozen=True, slots=True)
class StoryLine:
    """A story as one short line of a list: its time, its title, and how to read it whole."""

    article_id: int
    title: str
    time_label: str
    url: str | None = None


@dataclass(frozen=True, slots=True)
class StoryList:
    """A headed list of stories, one short line each (a section of a digest).

    `footer` is a last line under the stories (how many older ones were left out).
    """

    heading: str
    stories: tuple[StoryLine, ...]
    footer: str = ""


Part = Text | ArticleCard | StoryList


class LiveMessage(Protocol):
    """A message the bot has shown and may keep up to date (the desk's delivery counters).

    Each adapter decides how: one that can edit a sent message (Telegram) replaces it at each
    update; one that cannot change what it has shown (the console) shows only the last one.
    """

    @property
    def min_interval(self) -> float:
        """The least time between two updates, in seconds (the platform's limit for the chat)."""

    async def update(self, reply: Reply, *, final: bool) -> None:
        """Show `reply` in place of what the message shows; `final` for the last update.

        Raises `bot.delivery.errors.DeliveryError` subclasses, never the SDK's own errors.
        """


class FollowUp(Protocol):
    """Work a reply starts once it is shown: it is given the message the reply became."""

    @property
    def placeholder(self) -> bool:
        """True when the reply only says that the answer is being worked on (/post fetching a
        page), and the answer itself is the message's final update: an adapter that answers
        in order (a console) waits for it before it reads the next command. False when the
        reply is the answer, kept up to date (the desk's delivery counters)."""

    def shown(self, message: LiveMessage) -> None:
        """The reply is on screen as `message`; called by the adapter that showed it."""


@dataclass(frozen=True, slots=True)
class Reply:
    """What a handler answers: parts in order, and buttons under them.

    `follow_up`, when set, asks the adapter to report the message the reply became, so that
    it can be kept up to date (the adapter calls `follow_up.shown` after sending it).
    `private` marks an answer meant for the asker alone (a refusal, a usage line, an error): a
    platform that can show a message to one user only (Discord's ephemeral answers) does.
    """

    parts: tuple[Part, ...] = ()
    buttons: tuple[Button, ...] = field(default=())
    follow_up: FollowUp | None = field(default=None, compare=False)
    private: bool = False

    @classmethod
    def text(cls, content: str, *, private: bool = False) -> Reply:
        """A reply of plain text alone."""
        return cls(parts=(Text(content),), private=private)

    def plain_text(self) -> str:
        """Every part as plain text, for logs and tests."""
        chunks: list[str] = []
        for part in self.parts:
            if isinstance(part, Text):
                chunks.append(part.content)
            elif isinstance(part, StoryList):
                lines = [part.heading]
                lines += [
                    f"• {story.time_label} {story.title} (/read {story.article_id})"
                    for story in part.stories
                ]
                chunks.append("\n".join([*lines, part.footer] if part.footer else lines))
            else:
                chunks.append(f"{part.title} ({part.section_name}, {part.time_label})")
        return "\n\n".join(chunks)


def parse_command_text(text: str) -> tuple[str, str, str] | None:
    """Split `/name@bot args` into (name, bot, args); None when the text is not a command.

    The name is lower-cased; `bot` is empty when the command names no bot.
    """
    stripped = text.strip()
    if not stripped.startswith("/") or len(stripped) < 2:
        return None
    head, _, args = stripped[1:].partition(" ")
    name, _, bot = head.partition("@")
    if not name:
        return None
    return name.lower(), bot, args.strip()


class UserError(Exception):
    """A known failure whose message (an i18n key and its values) is shown to the user."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


class UsageError(UserError):
    """The arguments do not fit the command; the answer is its usage line."""

    def __init__(self) -> None:
        super().__init__("error.usage")
