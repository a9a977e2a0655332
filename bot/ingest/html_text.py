"""Turning HTML, or loosely formatted text, into the plain text stories are stored as.

This is the single place that decides what plain text looks like: paragraphs separated by one
blank line (``"\\n\\n"``), line breaks kept only where the markup had ``<br>``, every other run
of whitespace collapsed to one space, character references decoded, scripts and styles gone.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bs4.element import PageElement, Tag

PARAGRAPH_BREAK = "\n\n"

# Elements whose boundaries start a new paragraph.
_BLOCK_TAGS = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "caption",
        "center",
        "dd",
        "details",
        "dialog",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hgroup",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "thead",
        "tfoot",
        "tr",
        "ul",
    }
)
# Elements whose content is never reader-visible text.
_DROPPED_TAGS = frozenset(
    {"script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "math"}
)
# Marks a <br> inside the joined text; NUL never survives into text nodes (we strip it).
_LINE_MARK = "\x00"
_WHITESPACE = re.compile(r"\s+")
# C0 and C1 control characters but the whitespace ones (NUL, escape sequences, bells: nothing a
# reader should get), and the bidi embeddings, overrides and isolates that would reorder the
# rest of a card's line.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_LINE_ENDS = re.compile(r"\r\n?")
_BLANK_LINE = re.compile(r"\n[ \t\r\f\v\u00a0]*\n")


def remove_control_characters(text: str) -> str:
    """`text` without control characters; whitespace stays, with line ends made `\\n`."""
    return _CONTROL.sub("", _LINE_ENDS.sub("\n", text))


def collapse_whitespace(text: str) -> str:
    """Collapse every run of whitespace (newlines included) to one space and strip the ends."""
    return _WHITESPACE.sub(" ", text).strip()


def html_to_text(markup: str) -> str:
    """Convert an HTML fragment or document to plain text paragraphs."""
    if "<" not in markup:
        # No tags: only character references to decode. Skipping the parser also spares us
        # its warning that a lone URL or file name "looks like a locator, not markup".
        return collapse_whitespace(html.unescape(markup))
    # Imported here: the plain-text functions above serve every story, BeautifulSoup only
    # those with markup.
    from bs4 import BeautifulSoup  # noqa: PLC0415 - see above

    return element_to_text(BeautifulSoup(markup, "html.parser"))


def element_to_text(root: Tag) -> str:
    """Convert an already parsed element (or whole soup) to plain text paragraphs.

    The tree is walked with an explicit stack, so hostile, deeply nested markup cannot hit the
    recursion limit.
    """
    from bs4.element import CData, NavigableString, Tag  # noqa: PLC0415 - see html_to_text

    paragraphs: list[str] = []
    current: list[str] = []

    def end_paragraph() -> None:
        lines = (collapse_whitespace(line) for line in "".join(current).split(_LINE_MARK))
        text = "\n".join(line for line in lines if line)
        if text:
            paragraphs.append(text)
        current.clear()

    # None on the stack marks the end of a block element.
    stack: list[PageElement | None] = list(reversed(root.contents))
    while stack:
        node = stack.pop()
        if node is None:
            end_paragraph()
        elif isinstance(node, Tag):
            name = node.name.lower()
            if name in _DROPPED_TAGS:
                continue
            if name == "br":
                current.append(_LINE_MARK)
            elif name in _BLOCK_TAGS:
                end_paragraph()
                stack.append(None)
                stack.extend(reversed(node.contents))
            else:
                stack.extend(reversed(node.contents))
        # Comments, doctypes, processing instructions and script text are NavigableString
        # subclasses too; only plain text and CDATA are reader-visible.
        elif type(node) in (NavigableString, CData):
            current.append(str(node).replace(_LINE_MARK, ""))
    end_paragraph()
    return PARAGRAPH_BREAK.join(paragraphs)


def plain_to_text(text: str) -> str:
    """Normalise text that is already plain: blank lines separate paragraphs, single line
    breaks are kept, other whitespace is collapsed."""
    paragraphs: list[str] = []
    for block in _BLANK_LINE.split(text.replace("\r\n", "\n").replace("\r", "\n")):
        lines = (collapse_whitespace(line) for line in block.split("\n"))
        joined = "\n".join(line for line in lines if line)
        if joined:
            paragraphs.append(joined)
    return PARAGRAPH_BREAK.join(paragraphs)
