"""A `Reply` as Discord messages: markdown content, an embed per story, Discord's limits.

Pure functions, no network and no event loop: `render_reply` decides every message's content,
embeds and buttons, and the adapter only sends what it is given (with `AllowedMentions.none()`)
and turns the buttons into components with `button_custom_id`.

Discord counts lengths in code points, as Python's `len` does, and checks them on what it is
sent: every limit here is measured on the escaped text.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

import discord
from discord.utils import escape_markdown, escape_mentions

from bot.chat import ArticleCard, Button, Reply, StoryLine, StoryList, Text, parse_command_text
from bot.logging_config import platform_fields
from bot.message_text import pack_blocks
from bot.render import shorten
from storage.models import Platform

logger = logging.getLogger(__name__)

CONTENT_LIMIT = 2000
EMBEDS_PER_MESSAGE = 10
# Over title, description, field names and values, footer and author of all of a message's
# embeds together (what `len(embed)` counts).
EMBEDS_TOTAL_LIMIT = 6000
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FOOTER_LIMIT = 2048
AUTHOR_LIMIT = 256
BUTTON_LABEL_LIMIT = 80
CUSTOM_ID_LIMIT = 100
# Five action rows of five buttons.
BUTTONS_PER_MESSAGE = 25
# Discord answers "Not a well formed URL" to what it cannot take as a link; longer than this
# is refused by some of its clients, so such a link is left out rather than the message lost.
URL_LIMIT = 2048
# A story line's time is a clock time or a date (`23 Nov 14:05`); anything longer is cut.
TIME_LABEL_LIMIT = 64

# Marks a component's custom_id as one of ours: anything else is not a command to run.
CUSTOM_ID_PREFIX = "nb:"
BREAKING_MARK = "🔴"
BREAKING_COLOUR = discord.Colour.red()
NEWS_COLOUR = discord.Colour.blue()

_WEB_URL = re.compile(r"^https?://[^\s<>\"\x00-\x1f\x7f]+$", re.IGNORECASE)
# A bare link in message content; Discord would unfurl it into a preview of the page. It ends
# before a bracket, which a link has only percent-encoded (and `escape` splits text at `[`).
_BARE_LINK = re.compile(r"(?<!<)https?://[^\s<>\[\]]*[^\s<>\[\].,:;\"')]", re.IGNORECASE)
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
# Where a sentence or a line ends (after closing quotes or brackets): the split point is after
# the space that follows it.
_SENTENCE_END = re.compile(r"[.!?\u2026][\"'\u201d\u2019\u00bb)\]]*\s+|\s*\n\s*")
_WORD_END = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class DiscordMessage:
    """One message to send: markdown content above up to ten embeds, and buttons under them.

    `content` is None when the message is embeds only. `buttons` are the reply's core buttons
    (labels already within Discord's limit, each command fit for `button_custom_id`); the
    adapter lays them out in rows of five.
    """

    content: str | None
    embeds: tuple[discord.Embed, ...] = ()
    buttons: tuple[Button, ...] = ()


def render_reply(reply: Reply) -> list[DiscordMessage]:
    """The messages that show `reply`, in order; the buttons hang under the last one.

    Text becomes content; every card and every story list becomes embeds. Content shows above
    a message's embeds, so text that follows an embed starts a new message. A reply with
    nothing to show is no message at all (`[]`): Discord refuses an empty one, and the adapter
    decides what an empty answer is (an interaction still has to be acknowledged). A reply of
    buttons alone is one message of buttons, which Discord takes.
    """
    buttons = _fitted_buttons(reply.buttons)
    button_commands = {button.command for button in buttons}
    cards = [part for part in reply.parts if isinstance(part, ArticleCard)]
    # One story shows its picture large; in a list each shows a thumbnail, or five pictures
    # would bury the headlines.
    large_image = len(cards) == 1

    builder = _MessageBuilder()
    for part in reply.parts:
        if isinstance(part, Text):
            for block in _text_blocks(part.content):
                builder.add_text(block)
        elif isinstance(part, StoryList):
            for embed in _story_list_embeds(part):
                builder.add_embed(embed)
        else:
            # A preview (a story not stored yet) has no number to show.
            show_command = not part.preview and f"/read {part.article_id}" not in button_commands
            builder.add_embed(card_embed(part, show_command=show_command, large_image=large_image))
    messages = builder.finish()
    if not buttons:
        return messages
    if not messages:
        return [DiscordMessage(content=None, buttons=buttons)]
    last = messages[-1]
    messages[-1] = DiscordMessage(content=last.content, embeds=last.embeds, buttons=buttons)
    return messages


def escape(text: str) -> str:
    """Text shown literally in Discord markdown, and never as a mention.

    Markdown is escaped by discord.py's `escape_markdown`, line by line and between brackets,
    around two of its faults: its `^\\s*-` (a list item) runs across a blank line and then
    escapes the blank line instead of the dash; and it takes everything from a line's first
    `[` to its last `)` for one masked link, escaping that `[` and nothing inside, so that
    `[a](b) **c** (d)` would show `c` in bold. Each `[` is escaped here instead, and the text
    between them escaped on its own. Leading spaces stay before the escapes, so an indented
    `- x` is escaped too. Mentions (`@everyone`, `@here`, `<@123…>`, `<@&123…>`) get a
    zero-width space after the `@`: the adapter's `AllowedMentions.none()` already stops the
    ping, and this also stops clients from drawing a highlighted mention that looks like one.
    """
    return escape_mentions("\n".join(_escape_line(line) for line in text.split("\n")))


def _escape_line(line: str) -> str:
    body = line.lstrip()
    first, *after_brackets = body.split("[")
    # A letter before a piece that follows a bracket keeps it from counting as a line start
    # (where `#`, `>` and `-` would be escaped, needlessly).
    pieces = [escape_markdown(first)]
    pieces += [escape_markdown(f"x{piece}")[1:] for piece in after_brackets]
    return line[: len(line) - len(body)] + "\\[".join(pieces)


def card_embed(
    card: ArticleCard, *, show_command: bool, large_image: bool = True
) -> discord.Embed:
    """A card as an embed: the badge above, the linked title, the summary, section, time and
    number in the footer, the publication time as Discord's own timestamp, the picture.

    A breaking story is marked `🔴 BADGE` above its title and coloured red; others are blue.
    """
    author = (
        _fit_plain(f"{BREAKING_MARK} {card.badge}", AUTHOR_LIMIT) if card.badge.strip() else ""
    )
    # An embed needs some text; a story without a headline still shows where one would be.
    title = _fit(card.title, TITLE_LIMIT) or "…"
    footer = _card_footer(card, show_command=show_command)
    # A footer and a title at their limits leave less than a description's limit of the 6000
    # one embed may hold.
    room = min(DESCRIPTION_LIMIT, EMBEDS_TOTAL_LIMIT - len(author) - len(title) - len(footer))
    embed = discord.Embed(
        title=title,
        url=web_url(card.url),
        description=_fit(card.summary, room) or None,
        colour=BREAKING_COLOUR if card.badge.strip() else NEWS_COLOUR,
        timestamp=embed_timestamp(card.published_at),
    )
    if author:
        embed.set_author(name=author)
    if footer:
        embed.set_footer(text=footer)
    image = web_url(card.image_url)
    if image is not None:
        if large_image:
            embed.set_image(url=image)
        else:
            embed.set_thumbnail(url=image)
    return embed


def _card_footer(card: ArticleCard, *, show_command: bool) -> str:
    """`Internasional · 24 Nov 2026 10:05 WIB · #42 · /read 42`, plain text (a footer shows
    no markdown); the command is left out when a button carries it."""
    items = [card.section_name, card.time_label]
    if not card.preview:
        items.append(f"#{card.article_id}")
    if show_command:
        items.append(f"/read {card.article_id}")
    return _fit_plain(" · ".join(item for item in items if item.strip()), FOOTER_LIMIT)


def embed_timestamp(moment: datetime | None) -> datetime | None:
    """`moment` in UTC for an embed's timestamp, or None when it cannot be one.

    discord.py takes a naive datetime as the machine's local time, which would be a wrong
    time shown without a word; and it converts to UTC only when the message is sent, where a
    year-9999 or year-1 date shifted past datetime's range would fail the send. Both are
    caught here, leaving the embed without a timestamp (the footer still has the time).
    """
    if moment is None or moment.utcoffset() is None:
        return None
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def web_url(url: str | None) -> str | None:
    """`url` when Discord can take it as a link (http or https, with a host), else None."""
    if url is None or len(url) > URL_LIMIT or _WEB_URL.match(url) is None:
        return None
    try:
        parts = urlsplit(url)
        # `.port` raises ValueError for a port that is not a number within 0-65535.
        host, _port = parts.hostname, parts.port
    except ValueError:
        return None
    return url if host else None


def _story_list_embeds(story_list: StoryList) -> list[discord.Embed]:
    """A list of stories (a digest's section) as embeds: the heading as title, a line per
    story, the list's footer under the last.

    A list too long for one description is cut between lines into several embeds, each with
    the heading, so that a list carried over still says what it is.
    """
    heading = _fit(story_list.heading, TITLE_LIMIT)
    footer = _fit_plain(story_list.footer, FOOTER_LIMIT)
    room = min(DESCRIPTION_LIMIT, EMBEDS_TOTAL_LIMIT - len(heading) - len(footer))
    lines = [_story_line(story, room) for story in story_list.stories]
    descriptions = pack_blocks(lines, room, separator="\n") or [""]
    embeds = []
    for description in descriptions:
        embeds.append(
            discord.Embed(
                title=heading or None, description=description or None, colour=NEWS_COLOUR
            )
        )
    if footer:
        embeds[-1].set_footer(text=footer)
    # A list with no heading, no story and no footer has nothing to show.
    return [embed for embed in embeds if len(embed)]


def _story_line(story: StoryLine, limit: int) -> str:
    """`• 06:10 [Title](url) · `/read 42``, within `limit`: the link, then the title's end,
    give way first."""
    command = f"`/read {story.article_id}`"
    time_label = _fit(story.time_label, TIME_LABEL_LIMIT)
    title = escape(" ".join(story.title.split()))
    url = web_url(story.url)
    # A bracket in the title would end the link's text early: such a title is not linked.
    if url is not None and not any(bracket in title for bracket in "[]"):
        # A parenthesis would end the link's address early; encoded, it is the same address.
        address = url.replace("(", "%28").replace(")", "%29")
        linked = f"• {time_label} [{title}]({address}) · {command}"
        if len(linked) <= limit:
            return linked
    plain = f"• {time_label} {title} · {command}"
    if len(plain) <= limit:
        return plain
    room = limit - len(f"• {time_label}  · {command}")
    return f"• {time_label} {_fit(story.title, room)} · {command}"


def _fit(text: str, limit: int, escaper: Callable[[str], str] = escape) -> str:
    """`text` on one line, escaped, cut at a word with an ellipsis so that it fits `limit`.

    Text is cut before it is escaped (never inside an escape); escaping can lengthen it, so
    the cut is made shorter by the excess until it fits.
    """
    room = limit
    while True:
        escaped = escaper(shorten(text, room))
        if len(escaped) <= limit or room == 1:
            return escaped
        room = max(1, room - (len(escaped) - limit))


def _fit_plain(text: str, limit: int) -> str:
    """Text for a footer or an author line, which show no markdown (an escape would show as a
    backslash) and no mentions; they get the zero-width space all the same, so that no text
    of the bot's reads as a ping anywhere."""
    return _fit(text, limit, escape_mentions)


def _text_blocks(content: str) -> list[str]:
    """Plain text as escaped paragraphs, each within a message's content.

    A paragraph too long for one message is split between sentences (or lines), then between
    words, and a word longer than a message where it must be.
    """
    blocks: list[str] = []
    for paragraph in _PARAGRAPH_BREAK.split(content.strip()):
        stripped = paragraph.strip()
        if stripped:
            blocks.extend(_content(piece) for piece in _split(stripped, CONTENT_LIMIT))
    return blocks


def _content(text: str) -> str:
    """`text` escaped for message content, its links in `<…>` so that they are not unfurled
    into previews (a story's card already shows its page; a body's links would bury it)."""
    return escape(_BARE_LINK.sub(lambda match: f"<{match.group(0)}>", text))


def _split(text: str, limit: int) -> list[str]:
    """`text` cut into pieces whose content form fits `limit`."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit or len(_content(rest)) > limit:
        cut = _cut_point(rest, limit)
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def _cut_point(text: str, limit: int) -> int:
    """Where to end the next piece of `text`: after the last sentence that fits if that fills
    at least half a message, else after the last word that fits, else inside a word."""
    # Escaping never shortens: no more than `limit` characters can fit.
    window = text[: limit + 1]

    def fits(end: int) -> bool:
        return len(_content(window[:end].rstrip())) <= limit

    sentence = _last_fitting((match.end() for match in _SENTENCE_END.finditer(window)), fits)
    if sentence is not None and len(_content(window[:sentence].rstrip())) >= limit // 2:
        return sentence
    word = _last_fitting((match.end() for match in _WORD_END.finditer(window)), fits)
    if word is not None and window[:word].strip():
        return word
    # One word longer than a message.
    return _last_fitting(range(1, len(window) + 1), fits) or 1


def _last_fitting(ends: Iterable[int], fits: Callable[[int], bool]) -> int | None:
    """The last of the ascending `ends` that `fits`, or None.

    By bisection: a longer start of a text escapes to at least as long a text, but for a
    character or two where a link is cut; whatever it returns has been tried and fits.
    """
    candidates = list(ends)
    best = None
    low, high = 0, len(candidates) - 1
    while low <= high:
        middle = (low + high) // 2
        if fits(candidates[middle]):
            best = candidates[middle]
            low = middle + 1
        else:
            high = middle - 1
    return best


@dataclass(slots=True)
class _MessageBuilder:
    """Collects content and embeds into messages, starting a new one when a limit is met."""

    messages: list[DiscordMessage] = field(default_factory=list)
    blocks: list[str] = field(default_factory=list)
    embeds: list[discord.Embed] = field(default_factory=list)

    def add_text(self, block: str) -> None:
        """Text after an embed would show above it: it goes in the next message."""
        content = "\n\n".join([*self.blocks, block])
        if self.embeds or len(content) > CONTENT_LIMIT:
            self._close()
        self.blocks.append(block)

    def add_embed(self, embed: discord.Embed) -> None:
        total = sum(len(shown) for shown in self.embeds) + len(embed)
        if len(self.embeds) == EMBEDS_PER_MESSAGE or total > EMBEDS_TOTAL_LIMIT:
            self._close()
        self.embeds.append(embed)

    def finish(self) -> list[DiscordMessage]:
        self._close()
        return self.messages

    def _close(self) -> None:
        if self.blocks or self.embeds:
            content = "\n\n".join(self.blocks) or None
            self.messages.append(DiscordMessage(content=content, embeds=tuple(self.embeds)))
        self.blocks = []
        self.embeds = []


def button_custom_id(button: Button) -> str:
    """The custom_id of the component that carries `button`'s command: `nb:/read 42`.

    Raises:
        ValueError: the command is not a command, or too long for a custom_id.
            `render_reply` leaves such buttons out, so its buttons never raise.
    """
    if parse_command_text(button.command) is None:
        raise ValueError(f"not a command: {button.command!r}")
    custom_id = f"{CUSTOM_ID_PREFIX}{button.command}"
    if len(custom_id) > CUSTOM_ID_LIMIT:
        raise ValueError(f"command too long for a custom_id: {button.command!r}")
    return custom_id


def command_from_custom_id(custom_id: str) -> str | None:
    """The command a pressed component carries; None for a custom_id that is not ours."""
    if len(custom_id) > CUSTOM_ID_LIMIT or not custom_id.startswith(CUSTOM_ID_PREFIX):
        return None
    command = custom_id[len(CUSTOM_ID_PREFIX) :]
    return command if parse_command_text(command) is not None else None


def _fitted_buttons(buttons: Iterable[Button]) -> tuple[Button, ...]:
    """The buttons Discord will take: labels cut to its limit, at most 25, no command twice
    (custom_ids must differ within a message), none whose command does not fit a custom_id.

    Discord would refuse the whole message for one bad button; the message matters more.
    """
    fitted: list[Button] = []
    commands: set[str] = set()
    for button in buttons:
        if button.command in commands:
            continue
        try:
            button_custom_id(button)
        except ValueError:
            logger.warning(
                "button %r dropped: its command cannot be a custom_id",
                button.label,
                extra=platform_fields(Platform.DISCORD),
            )
            continue
        if len(fitted) == BUTTONS_PER_MESSAGE:
            logger.warning(
                "buttons after the %dth dropped",
                BUTTONS_PER_MESSAGE,
                extra=platform_fields(Platform.DISCORD),
            )
            break
        # A button needs a label; one without shows its command.
        label = shorten(button.label, BUTTON_LABEL_LIMIT) or shorten(
            button.command, BUTTON_LABEL_LIMIT
        )
        fitted.append(Button(label, button.command))
        commands.add(button.command)
    return tuple(fitted)
