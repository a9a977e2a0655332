"""A `Reply` as Telegram messages: HTML parse mode, Telegram's length limits, inline buttons.

Pure functions, no SDK calls: `render_reply` decides every message's text, photo and buttons,
and the adapter only sends what it is given.
"""

from __future__ import annotations

import html
import logging
import re
from dataclasses import dataclass

from bot.chat import ArticleCard, Button, Reply, StoryLine, StoryList, Text, parse_command_text
from bot.logging_config import platform_fields
from bot.message_text import pack_blocks
from storage.models import Platform

logger = logging.getLogger(__name__)

# Telegram counts lengths in UTF-16 code units, after entity parsing. We count the HTML source,
# which is never shorter than the text Telegram sees, so a message under the limit here is
# under it there too.
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
# Bot API limit on an inline button's callback_data, in bytes.
CALLBACK_DATA_LIMIT = 64
# Bot API limit on a /start deep-link payload.
START_PAYLOAD_LIMIT = 64

BREAKING_MARK = "🔴"
_WEB_URL = re.compile(r"^https?://\S+$", re.IGNORECASE)
# `/read 42` as a one-word command Telegram shows as a link: `/read_42`.
_ARGS_AS_SUFFIX = re.compile(r"^/([a-z]+) ([A-Za-z0-9-]+)$")


def utf16_length(text: str) -> int:
    """The length of `text` as Telegram counts it."""
    return len(text.encode("utf-16-le")) // 2


def escape(text: str) -> str:
    """Plain text for HTML parse mode: `<`, `>` and `&` escaped."""
    return html.escape(text, quote=False)


def escape_attribute(text: str) -> str:
    """Text inside a double-quoted HTML attribute."""
    return html.escape(text, quote=True)


def command_suffix_form(command: str) -> str | None:
    """`/read 42` as `read_42`, a tappable command and a deep-link payload; None if it has none."""
    match = _ARGS_AS_SUFFIX.match(command)
    if match is None:
        return None
    return f"{match.group(1)}_{match.group(2)}"


@dataclass(frozen=True, slots=True)
class InlineButton:
    """One inline keyboard button: a callback carrying a command, or a link."""

    label: str
    callback_data: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class TelegramMessage:
    """One message to send: HTML text, or a photo with the HTML as its caption."""

    html: str
    photo_url: str | None = None
    buttons: tuple[InlineButton, ...] = ()
    link_preview: bool = False


@dataclass(frozen=True, slots=True)
class ButtonStyle:
    """How buttons work in the chat the reply goes to.

    In a private chat a button's command comes back as a callback and the answer lands in the
    same chat. In groups and channels pressing "Read" must not post a whole article for
    everyone, so the button opens the reader's private chat with the bot instead (a /start
    deep link), when the bot's username is known. Commands in `in_chat` (the desk's Send and
    Cancel) are answered where they were pressed, in every chat.
    """

    private_chat: bool
    bot_username: str | None
    in_chat: frozenset[str] = frozenset()


def render_reply(reply: Reply, style: ButtonStyle) -> list[TelegramMessage]:
    """The messages that show `reply`, in order; the buttons hang under the last one."""
    cards = [part for part in reply.parts if isinstance(part, ArticleCard)]
    buttons = tuple(
        inline
        for inline in (_inline_button(button, style) for button in reply.buttons)
        if inline is not None
    )
    button_commands = {button.command for button in reply.buttons}
    photo_card = cards[0] if len(cards) == 1 and _is_web_url(cards[0].image_url) else None

    messages: list[TelegramMessage] = []
    blocks: list[str] = []
    for part in reply.parts:
        if isinstance(part, Text):
            blocks.extend(_text_blocks(part.content, TEXT_LIMIT))
            continue
        if isinstance(part, StoryList):
            blocks.extend(_story_list_blocks(part, TEXT_LIMIT))
            continue
        # A preview (a story not stored yet) has no number to show.
        show_command = not part.preview and f"/read {part.article_id}" not in button_commands
        if part is photo_card and not messages and not blocks:
            caption = _fitted_card(part, CAPTION_LIMIT, show_command=show_command)
            messages.append(TelegramMessage(html=caption, photo_url=part.image_url))
            continue
        blocks.append(_fitted_card(part, TEXT_LIMIT, show_command=show_command))

    messages.extend(
        TelegramMessage(html=text, link_preview=len(cards) == 1)
        for text in pack_blocks(blocks, TEXT_LIMIT, length=utf16_length)
    )
    if not messages:
        return []
    last = messages[-1]
    messages[-1] = TelegramMessage(
        html=last.html, photo_url=last.photo_url, buttons=buttons, link_preview=last.link_preview
    )
    return messages


def render_card(card: ArticleCard, *, show_command: bool, summary: str | None = None) -> str:
    """A card in HTML: mark, bold linked title, section and time, summary, how to read it."""
    lines = []
    if card.badge:
        lines.append(f"{BREAKING_MARK} <b>{escape(card.badge)}</b>")
    title = escape(card.title)
    if _is_web_url(card.url):
        title = f'<a href="{escape_attribute(card.url or "")}">{title}</a>'
    lines.append(f"<b>{title}</b>")
    lines.append(f"<i>{escape(card.section_name)} · {escape(card.time_label)}</i>")
    shown_summary = card.summary if summary is None else summary
    if shown_summary:
        lines.append(escape(shown_summary))
    if show_command:
        lines.append(f"#{card.article_id} · /read_{card.article_id}")
    return "\n".join(lines)


def _story_list_blocks(story_list: StoryList, limit: int) -> list[str]:
    """A list of stories (a digest's section) in HTML: the bold heading, then a line per story.

    A list too long for one message is cut between lines into blocks within `limit`, each
    starting with the heading, so that a list carried over to the next message still says
    what it is.
    """
    heading = f"<b>{_fit_plain(story_list.heading, limit // 4)}</b>"
    room = limit - utf16_length(heading) - 1
    lines = [_story_line(story, room) for story in story_list.stories]
    if story_list.footer:
        lines.append(_fit_plain(story_list.footer, room))
    blocks: list[str] = []
    current = heading
    for line in lines:
        candidate = f"{current}\n{line}"
        if utf16_length(candidate) > limit:
            blocks.append(current)
            candidate = f"{heading}\n{line}"
        current = candidate
    blocks.append(current)
    return blocks


def _story_line(story: StoryLine, limit: int) -> str:
    """`• 06:10 Title /read_42`, the title linked to the story's page; within `limit` (the
    link, then the title's end, give way first)."""
    command = f"/read_{story.article_id}"
    time_label = escape(story.time_label)
    title = escape(story.title)
    if _is_web_url(story.url):
        link = f'<a href="{escape_attribute(story.url or "")}">{title}</a>'
        linked = f"• {time_label} {link} {command}"
        if utf16_length(linked) <= limit:
            return linked
    plain = f"• {time_label} {title} {command}"
    if utf16_length(plain) <= limit:
        return plain
    room = limit - utf16_length(f"• {time_label}  {command}")
    return f"• {time_label} {_fit_plain(story.title, room)} {command}"


def _fitted_card(card: ArticleCard, limit: int, *, show_command: bool) -> str:
    """The card within `limit` (a caption's or a message's), its summary cut until it fits."""
    rendered = render_card(card, show_command=show_command)
    summary = card.summary
    while utf16_length(rendered) > limit and summary:
        summary = _shorter(summary)
        rendered = render_card(card, show_command=show_command, summary=summary)
    if utf16_length(rendered) > limit:
        # A title alone past the limit: the card becomes the title, cut.
        rendered = f"<b>{_fit_plain(card.title, limit - len('<b></b>'))}</b>"
    return rendered


def _shorter(text: str) -> str:
    words = text.split()
    if len(words) <= 1:
        return ""
    return " ".join(words[: max(1, len(words) * 3 // 4)]) + "…"


def _inline_button(button: Button, style: ButtonStyle) -> InlineButton | None:
    parsed = parse_command_text(button.command)
    in_chat = parsed is not None and parsed[0] in style.in_chat
    if not style.private_chat and style.bot_username and not in_chat:
        payload = command_suffix_form(button.command)
        if payload is not None and len(payload) <= START_PAYLOAD_LIMIT:
            return InlineButton(
                button.label, url=f"https://t.me/{style.bot_username}?start={payload}"
            )
    data = button.command
    if len(data.encode()) > CALLBACK_DATA_LIMIT:
        # Telegram would refuse the whole message; the message matters more than the button.
        logger.warning(
            "button %r dropped: its command is too long for Telegram",
            button.label,
            extra=platform_fields(Platform.TELEGRAM),
        )
        return None
    return InlineButton(button.label, callback_data=data)


def _is_web_url(url: str | None) -> bool:
    return url is not None and _WEB_URL.match(url) is not None


def _text_blocks(content: str, limit: int) -> list[str]:
    """Plain text as escaped HTML paragraphs, each within `limit`."""
    blocks: list[str] = []
    for paragraph in re.split(r"\n\s*\n", content.strip()):
        if not paragraph.strip():
            continue
        escaped = escape(paragraph.strip())
        if utf16_length(escaped) <= limit:
            blocks.append(escaped)
        else:
            blocks.extend(escape(piece) for piece in _split_plain(paragraph.strip(), limit))
    return blocks


def _split_plain(text: str, limit: int) -> list[str]:
    """A paragraph too long for one message, cut at lines, then sentences, then words."""
    pieces: list[str] = []
    current = ""
    for unit in _units(text):
        candidate = f"{current}{unit}"
        if current and utf16_length(escape(candidate.rstrip())) > limit:
            pieces.append(current.rstrip())
            current = unit.lstrip()
        else:
            current = candidate
        while utf16_length(escape(current)) > limit:
            # One unit (a word) longer than a message: cut it where it must be cut.
            head = _fit_plain_raw(current, limit)
            pieces.append(head)
            current = current[len(head) :]
    if current.strip():
        pieces.append(current.rstrip())
    return pieces


def _units(text: str) -> list[str]:
    """Sentences with their trailing space; a sentence past a message's size into words."""
    units: list[str] = []
    for sentence in re.findall(r"[^.!?\n]*(?:[.!?]+|\n|$)\s*", text):
        if not sentence:
            continue
        if utf16_length(escape(sentence)) <= TEXT_LIMIT // 4:
            units.append(sentence)
        else:
            units.extend(re.findall(r"\S+\s*|\s+", sentence))
    return units


def _fit_plain_raw(text: str, limit: int) -> str:
    """The longest start of `text` whose escaped form fits `limit` (at least one character)."""
    low, high = 1, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if utf16_length(escape(text[:middle])) <= limit:
            low = middle
        else:
            high = middle - 1
    return text[:low]


def _fit_plain(text: str, limit: int) -> str:
    """`text` escaped, cut with an ellipsis to fit `limit`."""
    if utf16_length(escape(text)) <= limit:
        return escape(text)
    return escape(_fit_plain_raw(text, limit - 1)) + "…"
