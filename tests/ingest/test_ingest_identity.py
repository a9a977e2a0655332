"""Story identity: URL canonicalisation and the url → guid → hash rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.ingest.identity import canonical_url, resolve_http_url, story_identity

WHEN = datetime(2024, 11, 25, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("HTTPS://Warta.Example.ID/Berita/1", "https://warta.example.id/Berita/1"),
        ("https://a.example.id/x#komentar", "https://a.example.id/x"),
        ("https://a.example.id:443/x", "https://a.example.id/x"),
        ("http://a.example.id:80/x", "http://a.example.id/x"),
        ("http://a.example.id:8080/x", "http://a.example.id:8080/x"),
        ("https://a.example.id", "https://a.example.id/"),
        ("  https://a.example.id/x  ", "https://a.example.id/x"),
        (
            "https://a.example.id/x?utm_source=rss&id=7&UTM_Medium=feed&fbclid=Z&page=2",
            "https://a.example.id/x?id=7&page=2",
        ),
        (
            "https://a.example.id/x?gclid=1&dclid=2&msclkid=3&mc_cid=4&mc_eid=5&igshid=6",
            "https://a.example.id/x",
        ),
        (
            "https://a.example.id/x?ref=home&ref_src=tw&_ga=1&yclid=2&spm=3",
            "https://a.example.id/x",
        ),
        # Kept parameters stay byte-for-byte, in their order.
        (
            "https://a.example.id/cari?q=harga+beras&z=1&a=%2F",
            "https://a.example.id/cari?q=harga+beras&z=1&a=%2F",
        ),
        ("https://a.example.id/x?", "https://a.example.id/x"),
        ("https://a.example.id/x?a=1&&b=2", "https://a.example.id/x?a=1&b=2"),
        ("http://[2001:DB8::1]:8080/x", "http://[2001:db8::1]:8080/x"),
    ],
)
def test_canonical_url_cleans_http_urls(raw: str, expected: str) -> None:
    assert canonical_url(raw) == expected


def test_canonical_url_keeps_a_parameter_that_only_starts_like_a_tracker() -> None:
    assert canonical_url("https://a.example.id/x?reference=1&refx=2") == (
        "https://a.example.id/x?reference=1&refx=2"
    )


@pytest.mark.parametrize(
    "raw",
    [
        "ftp://a.example.id/x",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "mailto:redaksi@a.example.id",
        "/relative/path",
        "",
        "https://",
        "http://a.example.id:port/x",
        "http://[::1",
    ],
)
def test_canonical_url_refuses_what_is_not_http(raw: str) -> None:
    assert canonical_url(raw) is None


def test_resolve_http_url_joins_relative_links_and_refuses_other_schemes() -> None:
    base = "https://a.example.id/rss/feed.xml"
    assert resolve_http_url("/berita/1", base) == "https://a.example.id/berita/1"
    assert resolve_http_url("2", base) == "https://a.example.id/rss/2"
    assert resolve_http_url("https://b.example.id/x", base) == "https://b.example.id/x"
    assert resolve_http_url("javascript:alert(1)", base) is None
    assert resolve_http_url("/berita/1", None) is None
    assert resolve_http_url("  ", base) is None
    assert resolve_http_url(None, base) is None


def test_identity_prefers_the_canonical_url() -> None:
    identity = story_identity(
        url="https://A.example.id/x?utm_source=wa#top",
        guid="g-1",
        guid_is_unique=True,
        title="Judul",
        published_at=WHEN,
    )
    assert identity == "url:https://a.example.id/x"


def test_identity_uses_a_unique_guid_when_there_is_no_url() -> None:
    for url in (None, "", "javascript:void(0)"):
        identity = story_identity(
            url=url, guid=" g-1 ", guid_is_unique=True, title="Judul", published_at=WHEN
        )
        assert identity == "guid:g-1"


def test_identity_ignores_a_shared_or_blank_guid() -> None:
    shared = story_identity(
        url=None, guid="sama", guid_is_unique=False, title="Judul", published_at=WHEN
    )
    blank = story_identity(
        url=None, guid="  ", guid_is_unique=True, title="Judul", published_at=WHEN
    )
    assert shared.startswith("hash:")
    assert blank == shared


def test_identity_hash_normalises_the_title_and_uses_the_utc_date() -> None:
    def ident(title: str, when: datetime) -> str:
        return story_identity(
            url=None, guid=None, guid_is_unique=False, title=title, published_at=when
        )

    base = ident("Rupiah Menguat  Tipis", WHEN)
    assert len(base.removeprefix("hash:")) == 64
    assert ident("rupiah menguat tipis", WHEN.replace(hour=23)) == base
    assert ident("RUPIAH\tmenguat\ntipis", WHEN) == base
    jakarta = timezone(timedelta(hours=7))
    # 06:00 in Jakarta on the 26th is still the 25th in UTC.
    assert ident("Rupiah Menguat Tipis", datetime(2024, 11, 26, 6, 0, tzinfo=jakarta)) == base
    assert ident("Rupiah Menguat Tipis", WHEN + timedelta(days=1)) != base
    assert ident("Rupiah Melemah Tipis", WHEN) != base
