"""The safety screen every XML input passes before any feed parser sees it.

defusedxml refuses entity declarations (billion laughs, quadratic blow-up, external entities)
before expat expands anything. We add one hook of our own: a DOCTYPE that points at an external
DTD is refused too, because defusedxml lets it through silently and a DTD is exactly where
entity tricks live. Only bytes that passed are handed on.
"""

from __future__ import annotations

import codecs
import html.entities
import re
from dataclasses import dataclass
from xml.etree.ElementTree import ParseError
from xml.parsers.expat import errors as expat_errors

from defusedxml import DefusedXmlException, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import DefusedXMLParser

from bot.ingest.errors import IngestError

_XML_DECL_ENCODING = re.compile(
    rb"""^(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?\sencoding\s*=\s*["']([A-Za-z0-9._-]+)["']"""
)
_NAMED_REF = re.compile(rb"&([A-Za-z][A-Za-z0-9]{1,31});")
_XML_PREDEFINED = frozenset({b"amp", b"lt", b"gt", b"quot", b"apos"})
_UTF8_NAMES = frozenset({"utf-8", "utf8", "u8"})
_UTF16_32_BOMS = (
    codecs.BOM_UTF32_LE,
    codecs.BOM_UTF32_BE,
    codecs.BOM_UTF16_LE,
    codecs.BOM_UTF16_BE,
)
# Expat errors that mean "the document stops too early".
_TRUNCATION_CODES = frozenset(
    expat_errors.codes[message]
    for message in (
        expat_errors.XML_ERROR_NO_ELEMENTS,
        expat_errors.XML_ERROR_UNCLOSED_TOKEN,
        expat_errors.XML_ERROR_UNCLOSED_CDATA_SECTION,
        expat_errors.XML_ERROR_PARTIAL_CHAR,
    )
)
_UNDEFINED_ENTITY = expat_errors.codes[expat_errors.XML_ERROR_UNDEFINED_ENTITY]


class ExternalDtdForbidden(DefusedXmlException):
    """A DOCTYPE names an external DTD (a SYSTEM or PUBLIC identifier)."""


@dataclass(frozen=True)
class ScreenedXml:
    """An XML document that passed the screen.

    Attributes:
        root: the root element's local name, e.g. ``"rss"``, ``"RDF"``, ``"feed"``.
        namespace: the root element's namespace URI, or ``""``.
        data: the bytes to parse further (see `screen_xml` for when they differ from the input).
    """

    root: str
    namespace: str
    data: bytes


def _refuse_external_dtd(
    name: str, sysid: str | None, pubid: str | None, has_internal_subset: bool
) -> None:
    if sysid is not None or pubid is not None:
        raise ExternalDtdForbidden(name, sysid, pubid)


def _declared_encoding(data: bytes) -> str | None:
    match = _XML_DECL_ENCODING.match(data[:512])
    return match.group(1).decode("ascii").lower() if match else None


def _check_utf8(data: bytes) -> None:
    """Refuse bytes that claim (or default to) UTF-8 but are not, naming the first bad byte."""
    if data.startswith(_UTF16_32_BOMS):
        return
    declared = _declared_encoding(data)
    if declared is not None and declared not in _UTF8_NAMES:
        return
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise IngestError(f"not valid UTF-8 at byte {err.start}") from None


class _RootName:
    """A parse target that keeps the root element's name and nothing else.

    The screen needs the whole document read (well-formed, no forbidden constructs) but no
    tree: building one cost a third of the time of reading a feed. After the root element,
    the parser is told to call no more element handler at all.
    """

    def __init__(self) -> None:
        self.parser: DefusedXMLParser | None = None
        self.tag: str | None = None

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        self.tag = tag
        if self.parser is not None:
            self.parser.parser.StartElementHandler = None

    def close(self) -> str | None:
        return self.tag


def _parse_root(data: bytes) -> tuple[str, str]:
    target = _RootName()
    parser = DefusedXMLParser(
        target=target, forbid_dtd=False, forbid_entities=True, forbid_external=True
    )
    target.parser = parser
    parser.parser.StartDoctypeDeclHandler = _refuse_external_dtd
    parser.feed(data)
    parser.close()
    if target.tag is None:  # pragma: no cover - expat reports a document without elements
        raise ParseError("no element found")
    namespace, _, local = target.tag.rpartition("}")
    return local, namespace.lstrip("{")


def _numeric_html_entities(data: bytes) -> bytes:
    """Rewrite HTML named references (``&nbsp;``) as numeric ones (``&#160;``).

    Careless feeds use HTML entities that XML does not define; strict XML rejects them although
    they are harmless. Only called for documents without any DOCTYPE, so nothing here can
    interact with declared entities.
    """

    def numeric(match: re.Match[bytes]) -> bytes:
        name = match.group(1)
        if name in _XML_PREDEFINED:
            return match.group(0)
        text = html.entities.html5.get(name.decode("ascii") + ";")
        if text is None:
            return match.group(0)
        return "".join(f"&#{ord(char)};" for char in text).encode("ascii")

    return _NAMED_REF.sub(numeric, data)


def screen_xml(content: bytes) -> ScreenedXml:
    """Check that `content` is well-formed, harmless XML and name its root element.

    Leading whitespace before the XML declaration (common in real feeds, and an error to
    expat) is removed, and if the only problem is HTML named entities in a document without a
    DOCTYPE they are rewritten as numeric references; `ScreenedXml.data` carries those fixes.

    Raises:
        IngestError: entity declarations, external entities or an external DTD ("refused"),
            bytes that are not the UTF-8 they claim to be, or malformed or truncated XML.
    """
    _check_utf8(content)
    bom = codecs.BOM_UTF8 if content.startswith(codecs.BOM_UTF8) else b""
    rest = content[len(bom) :]
    trimmed = rest.lstrip(b" \t\r\n")
    data = bom + trimmed
    # Report error positions in the caller's lines, not in the trimmed copy.
    lines_removed = rest[: len(rest) - len(trimmed)].count(b"\n")
    try:
        try:
            root, namespace = _parse_root(data)
        except ParseError as err:
            if err.code != _UNDEFINED_ENTITY or b"<!DOCTYPE" in data:
                raise
            data = _numeric_html_entities(data)
            root, namespace = _parse_root(data)
    except EntitiesForbidden as err:
        if err.sysid is not None or err.pubid is not None:
            raise IngestError("XML declares an external entity (refused)") from None
        raise IngestError("XML declares entities (refused)") from None
    except ExternalReferenceForbidden:
        raise IngestError("XML references an external entity (refused)") from None
    except ExternalDtdForbidden:
        raise IngestError("XML references an external DTD (refused)") from None
    except DefusedXmlException as err:
        raise IngestError(f"XML uses a forbidden construct (refused): {err!r}") from None
    except ParseError as err:
        line, column = err.position
        line += lines_removed
        reason = str(err).split(":", 1)[0]
        if err.code in _TRUNCATION_CODES:
            raise IngestError(f"truncated XML: {reason}: line {line}, column {column}") from None
        raise IngestError(f"malformed XML: {reason}: line {line}, column {column}") from None
    return ScreenedXml(root=root, namespace=namespace, data=data)
