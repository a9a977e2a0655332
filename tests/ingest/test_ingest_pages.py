"""Article web pages: meta tags, JSON-LD and plain HTML, in that order of preference."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING

import pytest

from bot.ingest.errors import IngestError
from bot.ingest.runner import parse_document

if TYPE_CHECKING:
    from conftest import DocFactory, RecordingResolver

NOW = datetime(2024, 11, 26, 12, 0, tzinfo=UTC)
JAKARTA = timezone(timedelta(hours=7))


def page(head: str = "", body: str = "") -> str:
    return f"<!DOCTYPE html><html><head>{head}</head><body>{body}</body></html>"


def test_article_fixture_uses_open_graph_first(
    fixture_doc: DocFactory, resolver: RecordingResolver
) -> None:
    parsed = parse_document(fixture_doc("article.html"), resolve_section=resolver, now=NOW)
    assert parsed.kind == "html"
    assert parsed.rejected == []
    (draft,) = parsed.drafts
    assert draft.title == "Banjir Rob Rendam Permukiman di Pesisir Utara"
    assert draft.section == "nasional"
    assert resolver.calls == [["Nasional"]]
    assert draft.author == "Ayu Lestari"
    assert draft.published_at == datetime(2024, 11, 25, 6, 20, tzinfo=JAKARTA)
    assert draft.url == "https://warta.example.id/nasional/banjir-rob-pesisir-utara"
    assert draft.identity == f"url:{draft.url}"
    # og:image is relative; a saved page resolves it against its canonical URL.
    assert draft.image_url == "https://warta.example.id/gambar/banjir-rob.jpg"
    assert (
        draft.summary
        == "Ratusan rumah di pesisir utara terendam banjir rob setinggi 40 sentimeter."
    )
    assert draft.source == "Warta Nusantara"
    # The story's paragraphs only: the <h1>, the figure caption, the aside, the script, the
    # related-story <article class="related">, the nav and the footer are left out.
    assert draft.body == (
        "Ratusan rumah di kawasan pesisir utara terendam banjir rob sejak Senin dini hari.\n\n"
        "Ketinggian air mencapai 40 sentimeter di beberapa ruas jalan, kata petugas setempat.\n\n"
        "Petugas menyiapkan pompa tambahan & dapur umum."
    )


def test_json_ld_fills_in_when_meta_tags_are_missing(
    make_doc: DocFactory, resolver: RecordingResolver
) -> None:
    ld = """<script type="application/ld+json">[
      {"@type": "BreadcrumbList", "itemListElement": []},
      {"@type": ["NewsArticle"], "headline": "Judul dari JSON-LD",
       "articleSection": ["Ekonomi", "Pasar"], "datePublished": "2024-11-25T07:30:00+07:00",
       "author": {"@type": "Person", "name": "Bayu"}, "image": {"url": "https://i.example.id/a.jpg"},
       "articleBody": "Paragraf satu.\\n\\nParagraf dua."}
    ]</script>"""
    doc = make_doc(
        page(ld, "<h1>Judul H1</h1><p>teks halaman</p>"),
        base_url="https://warta.example.id/ekonomi/x",
    )
    (draft,) = parse_document(doc, resolve_section=resolver, now=NOW).drafts
    assert draft.title == "Judul dari JSON-LD"
    assert draft.section == "ekonomi"
    assert resolver.calls == [["Ekonomi", "Pasar"]]
    assert draft.published_at == datetime(2024, 11, 25, 0, 30, tzinfo=UTC)
    assert draft.author == "Bayu"
    assert draft.image_url == "https://i.example.id/a.jpg"
    assert draft.body == "Paragraf satu.\n\nParagraf dua."
    assert draft.url == "https://warta.example.id/ekonomi/x"
    assert draft.source == "warta.example.id"


def test_plain_html_fallbacks(make_doc: DocFactory, resolver: RecordingResolver) -> None:
    body = """<header><p>Menu situs</p></header>
      <main><h1>  Judul   Utama </h1><time datetime="2024-11-25T08:00:00">pagi</time>
      <p>Paragraf <a href="/x">dengan tautan</a>.</p><p>   </p><p>Kedua<br>baris baru.</p></main>
      <footer><p>Kaki</p></footer>"""
    doc = make_doc(page("<title>Judul Tab</title>", body), location="simpanan.html")
    (draft,) = parse_document(doc, resolve_section=resolver, now=NOW).drafts
    assert draft.title == "Judul Utama"
    assert draft.body == "Paragraf dengan tautan.\n\nKedua\nbaris baru."
    assert draft.published_at == datetime(2024, 11, 25, 8, 0, tzinfo=UTC)  # naive → UTC
    assert draft.url is None
    assert draft.identity.startswith("hash:")
    assert draft.section == "umum"
    assert draft.source == "simpanan.html"
    assert draft.summary == draft.body  # short body: the derived summary is all of it


def test_title_tag_is_the_last_resort_and_broken_json_ld_is_ignored(
    make_doc: DocFactory, resolver: RecordingResolver
) -> None:
    head = (
        '<title>Judul dari tag title</title><script type="application/ld+json">{"@type": '
        '</script><script type="application/ld+json">' + "[" * 5000 + "]" * 5000 + "</script>"
    )
    doc = make_doc(page(head, "<p>Isi satu-satunya.</p>"))
    (draft,) = parse_document(doc, resolve_section=resolver, now=NOW).drafts
    assert draft.title == "Judul dari tag title"
    assert draft.body == "Isi satu-satunya."
    assert draft.published_at is None  # no date on the page: the time it is stored


def test_article_author_url_is_not_a_name(
    make_doc: DocFactory, resolver: RecordingResolver
) -> None:
    head = (
        '<meta property="og:title" content="T">'
        '<meta property="article:author" content="https://fb.example/ayu">'
        '<meta name="author" content="Ayu">'
    )
    (draft,) = parse_document(
        make_doc(page(head, "<article><p>x</p></article>")), resolve_section=resolver, now=NOW
    ).drafts
    assert draft.author == "Ayu"


def test_charset_from_the_content_type(make_doc: DocFactory, resolver: RecordingResolver) -> None:
    html = page("<title>Caf\xe9</title>", "<p>Kopi di caf\xe9.</p>").encode("latin-1")
    doc = make_doc(html, content_type="text/html; charset=ISO-8859-1")
    (draft,) = parse_document(doc, resolve_section=resolver, now=NOW).drafts
    assert draft.title == "Café"


@pytest.mark.parametrize(
    "html",
    [
        page("<title>Indeks</title>", "<ul><li>Berita 1</li></ul>"),  # a title but no paragraphs
        page("", "<article><p>Isi tanpa judul apa pun.</p></article>"),
        page("<title>Kosong</title>", "<nav><p>Menu</p></nav><footer><p>Kaki</p></footer>"),
    ],
)
def test_a_page_without_an_article_fails(
    make_doc: DocFactory, resolver: RecordingResolver, html: str
) -> None:
    with pytest.raises(IngestError, match=r"^no article found in the page$"):
        parse_document(make_doc(html), resolve_section=resolver, now=NOW)


def test_page_without_article_fixture(
    fixture_doc: DocFactory, resolver: RecordingResolver
) -> None:
    with pytest.raises(IngestError, match="no article found"):
        parse_document(fixture_doc("page_without_article.html"), resolve_section=resolver, now=NOW)
