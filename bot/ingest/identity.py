"""The stable unique key of a story, and the URL clean-up it rests on.

A story is known by its canonical URL when it has one, by its feed guid when that guid is
unique within its feed, and otherwise by a hash of its title and publication date.
"""

from __future__ import annotations

import functools
import hashlib
import unicodedata
from datetime import UTC, datetime
from urllib.parse import unquote_plus, urljoin, urlsplit, urlunsplit

# Query parameters that only say how a reader arrived, never which story it is. Compared
# case-insensitively; anything starting with "utm_" is dropped as well.
_TRACKING_PARAMS = frozenset(
    {
        "_ga",
        "_gl",
        "_hsenc",
        "_hsmi",
        "dclid",
        "fbclid",
        "gbraid",
        "gclid",
        "gclsrc",
        "igshid",
        "mc_cid",
        "mc_eid",
        "mkt_tok",
        "msclkid",
        "ref",
        "ref_src",
        "ref_url",
        "spm",
        "ttclid",
        "twclid",
        "wbraid",
        "yclid",
    }
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _is_tracking(part: str) -> bool:
    name = unquote_plus(part.partition("=")[0]).strip().lower()
    return name.startswith("utm_") or name in _TRACKING_PARAMS


# A story's link is canonicalised several times on its way in (resolved, then identified).
@functools.lru_cache(maxsize=4_096)
def canonical_url(url: str) -> str | None:
    """Return the canonical form of an http(s) URL, or None when it is not one.

    Lower-cases the scheme and host, drops a default port, the fragment and tracking query
    parameters, and keeps the remaining parameters verbatim and in their order. An empty path
    becomes ``/`` so that ``https://a.id`` and ``https://a.id/`` are one story.
    """
    try:
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        host = parts.hostname  # already lower-cased, brackets of IPv6 removed
        port = parts.port  # raises ValueError for a port that is not a number
    except ValueError:
        return None
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    userinfo, _, _ = parts.netloc.rpartition("@")
    netloc = f"{userinfo}@{host}" if userinfo else host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    # Filter the raw query so that the parameters we keep stay byte-for-byte as published.
    query = "&".join(p for p in parts.query.split("&") if p and not _is_tracking(p))
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


def resolve_http_url(link: str | None, base: str | None) -> str | None:
    """Resolve `link` against `base` and return it only if the result is an http(s) URL.

    Keeps ``javascript:``, ``data:`` and ``file:`` links out of stored stories.
    """
    if not link or not link.strip():
        return None
    link = link.strip()
    try:
        absolute = urljoin(base, link) if base else link
    except ValueError:
        return None
    return absolute if canonical_url(absolute) is not None else None


def _normalise_title(title: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", title).casefold().split())


def story_identity(
    *,
    url: str | None,
    guid: str | None,
    guid_is_unique: bool,
    title: str,
    published_at: datetime | None,
) -> str:
    """Return the stable unique key of a story.

    Args:
        url: the story's link, if any; used when it has a canonical http(s) form.
        guid: the feed's guid/id for the item, if any.
        guid_is_unique: whether no other item of the same feed carries this guid (the caller
            counts); a guid shared by several items identifies none of them.
        title: the story's title, for the last-resort hash.
        published_at: an aware publication time; only its UTC date enters the hash. None
            when the input gave no usable date: the title alone then, so that the story is
            the same story whenever it is read again.

    Returns:
        ``"url:<canonical url>"``, ``"guid:<guid>"`` or ``"hash:<sha256 hex>"``.
    """
    canonical = canonical_url(url) if url else None
    if canonical is not None:
        return f"url:{canonical}"
    if guid is not None and guid.strip() and guid_is_unique:
        return f"guid:{guid.strip()}"
    day = published_at.astimezone(UTC).date().isoformat() if published_at else "undated"
    digest = hashlib.sha256(f"{_normalise_title(title)}\n{day}".encode()).hexdigest()
    return f"hash:{digest}"
