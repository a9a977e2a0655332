"""A single news article web page: its story text from trafilatura, its metadata from the page.

The body is what trafilatura finds as the page's main content (navigation, ads, related-story
lists, comments and cookie notices left out), after a short pre-pass that drops the page
furniture Indonesian sites name in their own words (``iklan``, ``komentar``, ``baca-juga``,
``terkait``), which trafilatura's English vocabulary does not know. A JSON-LD ``articleBody``
is preferred when the publisher gives a whole one.

Metadata comes from the page's own structured data first: Open Graph / ``article:`` meta tags
and JSON-LD (schema.org NewsArticle and friends); what trafilatura reads off the markup (a
byline, a ``<title>`` without the site's name, categories) only fills what those leave empty.
Publication times come only from machine-readable fields, read strictly.

Nothing referenced by the page is fetched: trafilatura is handed a parsed tree, never a URL or
raw bytes (which it would decompress). The parse is CPU-bound; the runner calls it in a worker
thread.
"""

from __future__ import annotations

import json
import logging
import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import lxml.html
import trafilatura
from bs4 import BeautifulSoup, Tag
from lxml import etree

from bot.ingest.dates import PublicationDate, UnreadableDate, read_iso_date
from bot.ingest.drafts import IngestLimits, ParsedInput, SectionResolver, build_draft
from bot.ingest.errors import IngestError
from bot.ingest.html_text import (
    PARAGRAPH_BREAK,
    collapse_whitespace,
    html_to_text,
    plain_to_text,
    remove_control_characters,
)
from bot.ingest.identity import resolve_http_url
from bot.ingest.sources import SourceDocument, source_label

logger = logging.getLogger(__name__)

_ARTICLE_TYPES = frozenset(
    {
        "Article",
        "NewsArticle",
        "ReportageNewsArticle",
        "AnalysisNewsArticle",
        "BackgroundNewsArticle",
        "OpinionNewsArticle",
        "ReviewNewsArticle",
        "BlogPosting",
        "LiveBlogPosting",
    }
)
# JSON-LD blocks are walked breadth-first; a hostile page must not make that unbounded.
_MAX_JSON_NODES = 10_000
# An articleBody shorter than this share of the page's own text is a teaser, not the story.
_TEASER_SHARE = 0.6

JsonObject = dict[str, object]


def parse_page(
    doc: SourceDocument,
    *,
    resolve_section: SectionResolver,
    now: datetime,
    limits: IngestLimits,
) -> Iterator[ParsedInput]:
    """Turn an article page into one draft (one batch, for the runner's sake).

    CPU-bound (two HTML parses and trafilatura's scoring): call it off the event loop.

    Raises:
        IngestError: the page has no title or no body text ("no article found in the page").
    """
    soup = BeautifulSoup(doc.content, "html.parser", from_encoding=_charset(doc.content_type))
    # The bytes decoded as BeautifulSoup decided (HTTP charset, BOM, <meta charset>, sniffing).
    markup = doc.content.decode(soup.original_encoding or "utf-8", errors="replace")
    main = extract_main_text(markup)
    ld = _json_ld_article(soup)
    title = collapse_whitespace(
        _meta(soup, "og:title")
        or _ld_text(ld, "headline")
        or _ld_text(ld, "name")
        or _tag_text(soup.find("h1"))
        or (main.title if main else None)
        or _tag_text(soup.find("title"))
        or ""
    )
    body = _choose_body(_ld_body(ld), _page_body(main, title))
    if not title or not body:
        raise IngestError("no article found in the page")
    og_url = resolve_http_url(_meta(soup, "og:url"), doc.base_url)
    url = (
        resolve_http_url(_link_href(soup, "canonical"), doc.base_url or og_url)
        or og_url
        or resolve_http_url(_ld_url(ld), doc.base_url)
        or resolve_http_url(doc.base_url, None)
    )
    # A saved page has no base URL of its own; its canonical URL is the next best base.
    base = doc.base_url or url
    built = build_draft(
        title=title,
        body=body,
        summary=plain_to_text(_meta(soup, "og:description") or _meta(soup, "description") or ""),
        section=resolve_section(_section_words(soup, ld, main)),
        published=_published(soup, ld),
        now=now,
        limits=limits,
        url=url,
        author=_author(soup, ld, main),
        image_url=_image(soup, ld, main, base),
        source=(
            _meta(soup, "og:site_name")
            or _ld_publisher(ld)
            or (main.site_name if main else None)
            or source_label(doc)
        ),
    )
    parsed = ParsedInput(kind="html")
    parsed.add("page", built)
    yield parsed


# --- main text, through trafilatura ------------------------------------------------------------


@dataclass(frozen=True)
class MainText:
    """What trafilatura found in a page.

    Attributes:
        paragraphs: the story's text, one entry per paragraph (lines within one kept apart by
            ``\\n`` where the markup had ``<br>``), furniture and "Baca juga" lines removed.
        title: the headline as trafilatura reads it (a lone ``<h1>``, or ``<title>`` without
            the site's name).
        author: a byline found in the markup, names separated by ``", "``.
        image: the page's preview image as written (maybe relative).
        site_name: the publisher's name.
        categories: section or category words.
    """

    paragraphs: tuple[str, ...]
    title: str | None = None
    author: str | None = None
    image: str | None = None
    site_name: str | None = None
    categories: tuple[str, ...] = ()


# Tags that are page furniture wherever they stand.
_FURNITURE_TAGS = ("nav", "aside", "footer")
# Words in class and id attributes (split at anything but letters and digits) that mark page
# furniture on Indonesian sites; trafilatura knows most English ones (comment, share, sidebar),
# but "related" only in an id (sites put related-story cards in <article class="related">), and
# "ad" only in some spellings ("ad-slot", not "ads-box").
_FURNITURE_WORDS = frozenset(
    {
        "ad",
        "ads",
        "bacajuga",  # read also
        "bagikan",  # share
        "iklan",  # advertisement
        "komentar",  # comments
        "langganan",  # subscribe
        "populer",  # most read
        "rekomendasi",  # recommended
        "related",
        "terkait",  # related
        "terpopuler",  # most read
    }
)
_FURNITURE_PHRASES = (" baca juga ", " lihat juga ", " simak juga ")
# An element holding more than this share of the page's text is never dropped as furniture: a
# class name like "post-with-komentar" must not take the story with it.
_MAX_FURNITURE_SHARE = 0.5
_ATTRIBUTE_WORD = re.compile(r"[a-z0-9]+")
# Paragraphs that point elsewhere or label the page, not the story: "Baca juga: <headline>",
# "ADVERTISEMENT", and bylines left behind once trafilatura took the name out ("Oleh",
# "Penulis: X | Editor: Y", "Oleh Rudi Hartono").
_NOT_STORY_LINE = re.compile(
    r"""^(?:
        (?:baca|simak|lihat)\s+juga\b\s*(?::.*)?
        | (?:berita|artikel)\s+terkait\s*:?
        | advertisement | iklan | scroll\s+to\s+(?:continue|resume)\s+with\s+content
        | (?:oleh|penulis|reporter|pewarta|editor|penyunting|fotografer)\s*:?
        | (?:penulis|reporter|pewarta|editor|penyunting)\s*:.{0,150}
        | oleh\s+[^.,;:!?"“]{1,60}
    )$""",
    re.IGNORECASE | re.VERBOSE | re.DOTALL,
)
# trafilatura's output elements that end a paragraph; <lb/> is a line break within one.
_XML_BLOCKS = frozenset({"p", "head", "item", "quote", "code", "list", "table", "row", "cell"})
_LINE_MARK = "\x00"


def extract_main_text(markup: str) -> MainText | None:
    """The story's paragraphs and markup metadata of a decoded HTML page, or None if no text.

    Favours precision: comments, tables, images and links are left out, and trafilatura's
    precision mode drops what it is unsure of. No network is used.
    """
    tree = _parse_html(markup)
    if tree is None:
        return None
    _drop_furniture(tree)
    document = trafilatura.bare_extraction(
        tree,
        favor_precision=True,
        include_comments=False,
        include_tables=False,
        include_images=False,
        include_links=False,
        include_formatting=False,
        with_metadata=True,
        # The date is not used (only the page's machine-readable times are), so spare
        # htmldate its slow search through the text.
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    if document is None or isinstance(document, dict):
        return None
    paragraphs = tuple(
        paragraph for paragraph in _xml_paragraphs(document.body) if not _is_not_story(paragraph)
    )
    return MainText(
        paragraphs=paragraphs,
        title=document.title or None,
        # trafilatura joins several names with "; "; the rest of the project uses ", ".
        author=", ".join(filter(None, (n.strip() for n in (document.author or "").split(";"))))
        or None,
        image=document.image or None,
        site_name=document.sitename or None,
        categories=tuple(word for word in document.categories or () if word.strip()),
    )


def _parse_html(markup: str) -> lxml.html.HtmlElement | None:
    # Given bytes we have encoded, lxml never looks for an encoding of its own; a fresh parser
    # per call because lxml parsers must not be shared between threads.
    parser = lxml.html.HTMLParser(
        encoding="utf-8",
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
        default_doctype=False,
        no_network=True,
    )
    data = remove_control_characters(markup).encode("utf-8", errors="replace")
    if not data.strip():
        return None
    try:
        return lxml.html.document_fromstring(data, parser=parser)
    except (etree.ParserError, ValueError):
        logger.debug("the page cannot be parsed as HTML", exc_info=True)
        return None


def _drop_furniture(tree: lxml.html.HtmlElement) -> None:
    """Remove navigation, asides, footers and blocks named as Indonesian furniture."""
    body = tree.find("body")
    if body is None:
        return
    page_chars = _text_length(body)
    marked: set[lxml.html.HtmlElement] = set()
    for element in body.iterdescendants():
        if not isinstance(element.tag, str) or not _is_furniture(element, page_chars):
            continue
        # Only the outermost of nested furniture needs dropping.
        if not any(ancestor in marked for ancestor in element.iterancestors()):
            marked.add(element)
    for element in marked:
        element.drop_tree()


def _is_furniture(element: lxml.html.HtmlElement, page_chars: int) -> bool:
    if element.tag in _FURNITURE_TAGS:
        return True
    # A class is only a name: an element holding most of the page's text is the story.
    return (
        _named_as_furniture(element) and _text_length(element) <= _MAX_FURNITURE_SHARE * page_chars
    )


def _named_as_furniture(element: lxml.html.HtmlElement) -> bool:
    words = _ATTRIBUTE_WORD.findall(
        f"{element.get('class') or ''} {element.get('id') or ''}".lower()
    )
    if _FURNITURE_WORDS.intersection(words):
        return True
    spaced = f" {' '.join(words)} "
    return any(phrase in spaced for phrase in _FURNITURE_PHRASES)


def _text_length(element: lxml.html.HtmlElement) -> int:
    return sum(len(text.strip()) for text in element.itertext())


def _xml_paragraphs(body: etree._Element) -> Iterator[str]:
    """The paragraphs of trafilatura's output tree, walked with a stack (no recursion).

    Headings marked as the page's ``<h1>`` are the headline, not part of the body.
    """
    current: list[str] = []

    def paragraph() -> str:
        lines = (collapse_whitespace(line) for line in "".join(current).split(_LINE_MARK))
        current.clear()
        return "\n".join(line for line in lines if line)

    # (element, True) marks the end of an element, where its tail text follows.
    stack: list[tuple[etree._Element, bool]] = [(child, False) for child in reversed(body)]
    current.append(body.text or "")
    while stack:
        element, closing = stack.pop()
        tag = element.tag if isinstance(element.tag, str) else ""
        if closing:
            if tag in _XML_BLOCKS and (text := paragraph()):
                yield text
            current.append(element.tail or "")
            continue
        if tag == "lb":
            current.append(_LINE_MARK + (element.tail or ""))
            continue
        if tag == "head" and element.get("rend") == "h1":
            current.append(element.tail or "")
            continue
        if tag in _XML_BLOCKS and (text := paragraph()):
            yield text
        current.append(element.text or "")
        stack.append((element, True))
        stack.extend((child, False) for child in reversed(element))
    if text := paragraph():
        yield text


def _is_not_story(paragraph: str) -> bool:
    return len(paragraph) <= 200 and _NOT_STORY_LINE.match(paragraph) is not None


def _page_body(main: MainText | None, title: str) -> str:
    """The page's story text, without a first paragraph that only repeats the headline."""
    if main is None:
        return ""
    paragraphs = list(main.paragraphs)
    if paragraphs and paragraphs[0].casefold() == title.casefold():
        paragraphs.pop(0)
    return PARAGRAPH_BREAK.join(paragraphs)


def _choose_body(ld_body: str, page_body: str) -> str:
    """articleBody is the publisher's own statement of the story, free of page furniture by
    nature; but some put only a teaser there, so a page text much longer than it wins."""
    if ld_body and len(ld_body) >= _TEASER_SHARE * len(page_body):
        return ld_body
    return page_body or ld_body


# --- the page's own metadata -------------------------------------------------------------------


def _charset(content_type: str | None) -> str | None:
    for param in (content_type or "").split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            return value.strip().strip("\"'")
    return None


def _attr(tag: Tag, name: str) -> str | None:
    value = tag.get(name)
    if isinstance(value, list):
        value = " ".join(value)
    return (value.strip() or None) if isinstance(value, str) else None


def _meta(soup: BeautifulSoup, key: str) -> str | None:
    """The content of ``<meta property=key>`` or ``<meta name=key>`` (case-insensitive)."""
    key = key.lower()
    for meta in soup.find_all("meta"):
        names = (_attr(meta, "property") or "", _attr(meta, "name") or "")
        if key in (names[0].lower(), names[1].lower()):
            content = _attr(meta, "content")
            if content:
                return content
    return None


def _link_href(soup: BeautifulSoup, rel: str) -> str | None:
    for link in soup.find_all("link", href=True):
        rels = [value.lower() for value in link.get_attribute_list("rel")]
        if rel in rels:
            return _attr(link, "href")
    return None


def _tag_text(tag: Tag | None) -> str | None:
    return (collapse_whitespace(tag.get_text(" ")) or None) if tag is not None else None


def _json_ld_article(soup: BeautifulSoup) -> JsonObject:
    """The first schema.org article object in the page's JSON-LD, or {} (broken blocks ignored)."""
    for script in soup.find_all("script"):
        if "ld+json" not in (_attr(script, "type") or "").lower():
            continue
        try:
            data: object = json.loads(script.get_text())
        except (ValueError, RecursionError):
            logger.debug("ignoring a JSON-LD block that is not valid JSON")
            continue
        for node in _json_objects(data):
            if _ARTICLE_TYPES & _types(node):
                return node
    return {}


def _json_objects(data: object) -> Iterator[JsonObject]:
    """Every JSON object inside `data`, breadth-first (so @graph members come before details)."""
    queue: deque[object] = deque([data])
    seen = 0
    while queue and seen < _MAX_JSON_NODES:
        node = queue.popleft()
        seen += 1
        if isinstance(node, dict):
            yield node
            queue.extend(node.values())
        elif isinstance(node, list):
            queue.extend(node)


def _types(node: JsonObject) -> set[str]:
    raw = node.get("@type")
    values = raw if isinstance(raw, list) else [raw]
    # "schema:NewsArticle" and "https://schema.org/NewsArticle" name the same type.
    return {v.rsplit("/", 1)[-1].rsplit(":", 1)[-1] for v in values if isinstance(v, str)}


def _ld_text(ld: JsonObject, key: str) -> str | None:
    value = ld.get(key)
    return (value.strip() or None) if isinstance(value, str) else None


def _ld_names(value: object) -> list[str]:
    """Names from a JSON-LD person/organisation field: a string, an object or a list of them."""
    items = value if isinstance(value, list) else [value]
    names: list[str] = []
    for item in items:
        name = item.get("name") if isinstance(item, dict) else item
        if isinstance(name, str) and name.strip():
            names.append(collapse_whitespace(name))
    return names


def _ld_url(ld: JsonObject) -> str | None:
    """The article's own address: ``mainEntityOfPage`` (a URL or a WebPage with an @id) or
    ``url``."""
    for field in (ld.get("mainEntityOfPage"), ld.get("url")):
        value = (field.get("@id") or field.get("url")) if isinstance(field, dict) else field
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _ld_publisher(ld: JsonObject) -> str | None:
    names = _ld_names(ld.get("publisher"))
    return names[0] if names else None


def _ld_body(ld: JsonObject) -> str:
    body = _ld_text(ld, "articleBody")
    if body is None:
        return ""
    # articleBody is meant to be plain text, but some sites put markup in it.
    return html_to_text(body) if "<" in body and ">" in body else plain_to_text(body)


def _section_words(soup: BeautifulSoup, ld: JsonObject, main: MainText | None) -> list[str]:
    section = _meta(soup, "article:section")
    if section:
        return [collapse_whitespace(section)]
    raw = ld.get("articleSection")
    values = raw if isinstance(raw, list) else [raw]
    words = [collapse_whitespace(v) for v in values if isinstance(v, str) and v.strip()]
    if not words and main is not None:
        words = [collapse_whitespace(word) for word in main.categories]
    return words


def _author(soup: BeautifulSoup, ld: JsonObject, main: MainText | None) -> str | None:
    """JSON-LD's named people first: a page's ``<meta name=author>`` often names the newsroom
    ("Redaksi"), not the reporter."""
    named = ", ".join(_ld_names(ld.get("author")))
    if named:
        return named
    meta_author = _meta(soup, "article:author")
    # article:author is often a profile URL rather than a name.
    if meta_author and not meta_author.lower().startswith(("http://", "https://")):
        return meta_author
    return _meta(soup, "author") or (main.author if main else None)


def _published(soup: BeautifulSoup, ld: JsonObject) -> PublicationDate:
    """The first readable of the page's publication times; the first unreadable if none is.

    Only machine-readable fields count: a date guessed from the page's prose (as htmldate can)
    would be a date nobody wrote, and a story is never pushed as fresh on the strength of one.
    """
    time_tag = soup.find("time", datetime=True)
    candidates = (
        _meta(soup, "article:published_time"),
        ld.get("datePublished"),
        _attr(time_tag, "datetime") if time_tag is not None else None,
    )
    unreadable: UnreadableDate | None = None
    for candidate in candidates:
        if not isinstance(candidate, str) or not candidate.strip():
            continue
        moment = read_iso_date(candidate)
        if not isinstance(moment, UnreadableDate):
            return moment
        unreadable = unreadable or moment
    return unreadable


def _image(
    soup: BeautifulSoup, ld: JsonObject, main: MainText | None, base: str | None
) -> str | None:
    candidates: list[object] = [_meta(soup, "og:image")]
    raw = ld.get("image")
    for item in raw if isinstance(raw, list) else [raw]:
        candidates.append(item.get("url") if isinstance(item, dict) else item)
    if main is not None:
        candidates.append(main.image)  # twitter:image and other markup trafilatura knows
    for candidate in candidates:
        if isinstance(candidate, str):
            url = resolve_http_url(candidate, base)
            if url is not None:
                return url
    return None
