"""A single news article web page, read with BeautifulSoup.

Metadata comes from Open Graph / article: meta tags first, then JSON-LD (schema.org
NewsArticle and friends), then plain HTML structure. Nothing referenced by the page is fetched.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from collections.abc import Iterator
from datetime import datetime

from bs4 import BeautifulSoup, Tag

from bot.ingest.dates import PublicationDate, UnreadableDate, read_iso_date
from bot.ingest.drafts import IngestLimits, ParsedInput, SectionResolver, build_draft
from bot.ingest.errors import IngestError
from bot.ingest.html_text import (
    PARAGRAPH_BREAK,
    collapse_whitespace,
    element_to_text,
    html_to_text,
    plain_to_text,
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
# Paragraphs inside these are page furniture, not the story.
_FURNITURE = frozenset(
    {"script", "style", "noscript", "template", "nav", "aside", "footer", "figure", "figcaption"}
)
# JSON-LD blocks are walked breadth-first; a hostile page must not make that unbounded.
_MAX_JSON_NODES = 10_000

JsonObject = dict[str, object]


def parse_page(
    doc: SourceDocument,
    *,
    resolve_section: SectionResolver,
    now: datetime,
    limits: IngestLimits,
) -> Iterator[ParsedInput]:
    """Turn an article page into one draft (one batch, for the runner's sake).

    Raises:
        IngestError: the page has no title or no body text ("no article found in the page").
    """
    soup = BeautifulSoup(doc.content, "html.parser", from_encoding=_charset(doc.content_type))
    ld = _json_ld_article(soup)
    title = collapse_whitespace(
        _meta(soup, "og:title")
        or _ld_text(ld, "headline")
        or _ld_text(ld, "name")
        or _tag_text(soup.find("h1"))
        or _tag_text(soup.find("title"))
        or ""
    )
    body = _ld_body(ld) or _paragraphs(soup)
    if not title or not body:
        raise IngestError("no article found in the page")
    og_url = resolve_http_url(_meta(soup, "og:url"), doc.base_url)
    url = (
        resolve_http_url(_link_href(soup, "canonical"), doc.base_url or og_url)
        or og_url
        or resolve_http_url(doc.base_url, None)
    )
    # A saved page has no base URL of its own; its canonical URL is the next best base.
    base = doc.base_url or url
    built = build_draft(
        title=title,
        body=body,
        summary=plain_to_text(_meta(soup, "og:description") or _meta(soup, "description") or ""),
        section=resolve_section(_section_words(soup, ld)),
        published=_published(soup, ld),
        now=now,
        limits=limits,
        url=url,
        author=_author(soup, ld),
        image_url=_image(soup, ld, base),
        source=_meta(soup, "og:site_name") or _ld_publisher(ld) or source_label(doc),
    )
    parsed = ParsedInput(kind="html")
    parsed.add("page", built)
    yield parsed


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


# --- JSON-LD ---------------------------------------------------------------------------------


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


def _ld_publisher(ld: JsonObject) -> str | None:
    names = _ld_names(ld.get("publisher"))
    return names[0] if names else None


def _ld_body(ld: JsonObject) -> str:
    body = _ld_text(ld, "articleBody")
    if body is None:
        return ""
    # articleBody is meant to be plain text, but some sites put markup in it.
    return html_to_text(body) if "<" in body and ">" in body else plain_to_text(body)


# --- fields ----------------------------------------------------------------------------------


def _paragraphs(soup: BeautifulSoup) -> str:
    """The <p> text of the richest <article>, else of <main>, else of the whole body."""
    containers: list[Tag] = list(soup.find_all("article"))
    if not containers:
        containers = [tag for tag in (soup.find("main"), soup.find("body")) if tag is not None]
        containers = containers[:1] or [soup]
    best = ""
    for container in containers:
        text = PARAGRAPH_BREAK.join(
            text
            for paragraph in container.find_all("p")
            if not _in_furniture(paragraph, container) and (text := element_to_text(paragraph))
        )
        if len(text) > len(best):
            best = text
    return best


def _in_furniture(tag: Tag, container: Tag) -> bool:
    """Whether `tag` sits in page furniture or inside another <p> (whose text includes it)."""
    for parent in tag.parents:
        if parent is container:
            return False
        if parent.name in _FURNITURE or parent.name == "p":
            return True
    return False


def _section_words(soup: BeautifulSoup, ld: JsonObject) -> list[str]:
    section = _meta(soup, "article:section")
    if section:
        return [collapse_whitespace(section)]
    raw = ld.get("articleSection")
    values = raw if isinstance(raw, list) else [raw]
    return [collapse_whitespace(v) for v in values if isinstance(v, str) and v.strip()]


def _author(soup: BeautifulSoup, ld: JsonObject) -> str | None:
    meta_author = _meta(soup, "article:author")
    # article:author is often a profile URL rather than a name.
    if meta_author and not meta_author.lower().startswith(("http://", "https://")):
        return meta_author
    named = _meta(soup, "author")
    return named or ", ".join(_ld_names(ld.get("author"))) or None


def _published(soup: BeautifulSoup, ld: JsonObject) -> PublicationDate:
    """The first readable of the page's publication times; the first unreadable if none is."""
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


def _image(soup: BeautifulSoup, ld: JsonObject, base: str | None) -> str | None:
    candidates: list[object] = [_meta(soup, "og:image")]
    raw = ld.get("image")
    for item in raw if isinstance(raw, list) else [raw]:
        candidates.append(item.get("url") if isinstance(item, dict) else item)
    for candidate in candidates:
        if isinstance(candidate, str):
            url = resolve_http_url(candidate, base)
            if url is not None:
                return url
    return None
