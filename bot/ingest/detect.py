"""Telling what kind of input a document is: a feed, an article page or JSON Lines.

The content decides; the Content-Type and the file extension are only consulted when the
content alone is ambiguous (e.g. a JSON Lines file whose first line is broken).
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from bot.ingest.errors import IngestError
from bot.ingest.sources import SourceDocument
from bot.ingest.xml_screen import screen_xml

_HEAD_BYTES = 8192
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.DOTALL)
_FIRST_TAG = re.compile(r"<([A-Za-z][\w:.-]*)")
_FEED_ROOTS = frozenset({"rss", "rdf", "feed"})
_RSS_ROOTS = frozenset({"rss", "RDF"})
_ATOM_NAMESPACES = frozenset({"http://www.w3.org/2005/Atom", "http://purl.org/atom/ns#", ""})
_EXTENSION_HINTS = {
    **dict.fromkeys((".xml", ".rss", ".atom", ".rdf"), "xml"),
    **dict.fromkeys((".html", ".htm", ".xhtml"), "html"),
    **dict.fromkeys((".jsonl", ".ndjson", ".json"), "jsonl"),
}
_BINARY_SHARE = 0.05


@dataclass(frozen=True)
class Detected:
    """The kind of a document and the bytes its parser should read.

    Attributes:
        kind: ``"rss"``, ``"atom"``, ``"html"`` or ``"jsonl"``.
        data: for feeds, the bytes that passed the XML screen; otherwise the input unchanged.
    """

    kind: str
    data: bytes


def _head_text(content: bytes) -> str:
    """Decode the start of the input well enough to look at it."""
    head = content[:_HEAD_BYTES]
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return head[len(bom) :].decode(encoding, errors="replace")
    # UTF-16 without a BOM still starts "<\0" or "\0<".
    if head.startswith(b"<\x00"):
        return head.decode("utf-16-le", errors="replace")
    if head.startswith(b"\x00<"):
        return head.decode("utf-16-be", errors="replace")
    return head.decode("utf-8", errors="replace")


def _looks_binary(text: str) -> bool:
    """NUL characters, or more than a few undecodable bytes and control characters."""
    if "\x00" in text:
        return True
    if not text:
        return False
    odd = sum(
        1
        for char in text
        if char == "\ufffd" or (unicodedata.category(char) == "Cc" and char not in "\t\n\r\f")
    )
    return odd / len(text) > _BINARY_SHARE


def _hint(doc: SourceDocument) -> str | None:
    """What the Content-Type or the extension suggests: "xml", "html", "jsonl" or None."""
    media = (doc.content_type or "").split(";", 1)[0].strip().lower()
    if media in ("text/html", "application/xhtml+xml"):
        return "html"
    if media.endswith(("+xml", "/xml")):
        return "xml"
    if media.endswith(("json", "jsonl", "ndjson", "json-seq")):
        return "jsonl"
    path = urlsplit(doc.location).path if doc.base_url else doc.location
    return _EXTENSION_HINTS.get(PurePosixPath(path).suffix.lower())


def _markup_is_xml_feed(text: str) -> bool:
    """For input starting with "<": XML declaration, entity declarations, or a feed root."""
    if text.startswith("<?xml") or "<!ENTITY" in text:
        return True
    match = _FIRST_TAG.search(_COMMENT.sub("", text))
    if match is None:
        return False
    local = match.group(1).rpartition(":")[2].lower()
    return local in _FEED_ROOTS


def _xml_kind(content: bytes) -> Detected:
    screened = screen_xml(content)
    if screened.root in _RSS_ROOTS:
        return Detected("rss", screened.data)
    if screened.root == "feed" and screened.namespace in _ATOM_NAMESPACES:
        return Detected("atom", screened.data)
    if screened.root.lower() == "html":
        return Detected("html", content)
    raise IngestError(f"XML root <{screened.root}> is not an RSS or Atom feed")


def sniff(doc: SourceDocument) -> str:
    """What `doc` looks like from its start: ``"xml"``, ``"html"`` or ``"jsonl"``.

    Raises:
        IngestError: empty, binary or unrecognisable input, or junk where XML was expected.
    """
    if not doc.content.strip():
        raise IngestError("empty input")
    text = _head_text(doc.content).lstrip()
    if _looks_binary(text):
        raise IngestError("binary data, not a feed, web page or JSON Lines")
    hint = _hint(doc)
    if text.startswith("<"):
        if _markup_is_xml_feed(text) or (hint == "xml" and not text.lower().startswith("<!doc")):
            return "xml"
        return "html"
    if text.startswith("{") or hint == "jsonl":
        return "jsonl"
    if hint in ("xml", "html"):
        # An XML hint on junk: the XML screen says where the junk is.
        return hint
    if any(line.lstrip().startswith("{") for line in text.splitlines()):
        return "jsonl"
    raise IngestError("unrecognised format: not a feed, web page or JSON Lines")


def detect(doc: SourceDocument) -> Detected:
    """Decide what `doc` (all of it in memory) is; feeds are screened for hostile XML.

    Raises:
        IngestError: empty, binary or unrecognisable input, or XML that fails the screen.
    """
    kind = sniff(doc)
    if kind == "xml":
        return _xml_kind(doc.content)  # raises with the position of any junk
    return Detected(kind, doc.content)
