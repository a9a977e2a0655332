"""RSS and Atom feeds: every field of an item, guid rules, fallbacks and limits."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import bot.ingest.feeds
from bot.ingest.drafts import MAX_ITEMS, IngestLimits, Skipped
from bot.ingest.runner import parse_document
from bot.ingest.sources import SourceDocument

if TYPE_CHECKING:
    from conftest import DocFactory, RecordingResolver

NOW = datetime(2024, 11, 26, 12, 0, tzinfo=UTC)


def rss(items: str, channel_extra: str = "") -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        f"<channel><title>Uji</title><link>https://uji.example.id/</link>{channel_extra}"
        f"{items}</channel></rss>"
    )


def test_rss_fixture_gives_every_field(
    fixture_doc: DocFactory, resolver: RecordingResolver
) -> None:
    parsed = parse_document(fixture_doc("feed.xml"), resolve_section=resolver, now=NOW)
    assert parsed.kind == "rss"
    assert parsed.rejected == []
    assert [d.section for d in parsed.drafts] == [
        "internasional",
        "nasional",
        "ekonomi",
        "olahraga",
    ]

    nato, cuti, rupiah, timnas = parsed.drafts
    assert nato.title.startswith("Sekjen NATO Kunjungi Tokyo")
    assert "Menteri Pertahanan Jepang" in nato.title
    assert "Jepang" in nato.body
    assert "Pertahanan" in nato.body
    # content:encoded becomes paragraphs; the figure's image is not text.
    assert nato.body.count("\n\n") == 2
    assert 'sebagai "langkah penting"' in nato.body
    assert "<" not in nato.body
    assert nato.summary.startswith("Sekretaris Jenderal NATO tiba di Tokyo untuk bertemu")
    assert nato.url == "https://warta.example.id/internasional/sekjen-nato-kunjungi-tokyo"
    assert nato.identity == f"url:{nato.url}"
    assert nato.author == "Rina Hapsari"
    assert nato.image_url == "https://warta.example.id/gambar/nato-tokyo-besar.jpg"
    assert nato.published_at == datetime(2024, 11, 25, 2, 15, tzinfo=UTC)
    assert nato.source == "Warta Nusantara"
    assert nato.breaking is False

    assert cuti.url == "https://warta.example.id/nasional/cuti-bersama-akhir-tahun"
    assert cuti.author == "Dimas Pratama"
    assert cuti.image_url == "https://warta.example.id/gambar/cuti-bersama.png"
    # Only a description: it is both the body and the summary, as plain text.
    assert (
        cuti.body
        == cuti.summary
        == ("Pemerintah menetapkan dua hari cuti bersama menjelang pergantian tahun.")
    )

    # A relative link is resolved against the channel link; fbclid goes, halaman stays.
    assert rupiah.url == "https://warta.example.id/ekonomi/rupiah-menguat-tipis?halaman=2"
    assert rupiah.image_url == "https://warta.example.id/gambar/rupiah-kecil.jpg"
    assert rupiah.author is None
    assert ["Ekonomi", "Pasar"] in resolver.calls

    # No pubDate on the item: the time it is first stored, not the channel's date, which
    # moves whenever the channel publishes and would move the story with it.
    assert timnas.published_at is None
    assert all(d.published_at is None or d.published_at.tzinfo for d in parsed.drafts)
    assert len({d.identity for d in parsed.drafts}) == 4


def test_atom_fixture(fixture_doc: DocFactory, resolver: RecordingResolver) -> None:
    parsed = parse_document(fixture_doc("atom.xml"), resolve_section=resolver, now=NOW)
    assert parsed.kind == "atom"
    app, satellite = parsed.drafts
    assert app.title == "Startup Lokal Rilis Aplikasi Bahasa Daerah & Kamus Suara"
    assert app.body == (
        "Sebuah perusahaan rintisan merilis aplikasi belajar bahasa daerah.\n\n"
        "Aplikasi ini memuat kamus suara untuk lima bahasa."
    )
    assert app.summary == "Aplikasi baru membantu pelajar mempelajari bahasa daerah."
    assert app.published_at == datetime(2024, 11, 25, 2, 0, tzinfo=UTC)  # published, not updated
    assert app.author == "Sari Wulandari"
    assert app.section == "teknologi"
    assert ["teknologi", "Teknologi"] in resolver.calls
    # No link: the entry id, unique in the feed, is the identity, within the feed's own link.
    assert satellite.url is None
    assert satellite.identity == (
        "guid:https://tekno.example.id/ urn:uuid:6f1c2a5e-0000-4000-8000-000000000102"
    )
    assert satellite.body == (
        "Satelit cuaca generasi baru mulai mengirim data.\n\n"
        "Data itu dipakai untuk prakiraan hujan harian."
    )
    assert satellite.published_at == datetime(2024, 11, 24, 22, 0, tzinfo=UTC)  # updated
    assert satellite.section == "umum"


def test_rss_1_0_is_read_as_rss(make_doc: DocFactory, resolver: RecordingResolver) -> None:
    rdf = """<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
         xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://rdf.example.id/"><title>RDF</title><link>https://rdf.example.id/</link>
    <description>x</description></channel>
  <item rdf:about="https://rdf.example.id/1">
    <title>Berita RDF</title><link>https://rdf.example.id/1</link>
    <description>Isi RDF.</description><dc:date>2024-11-25T01:02:03Z</dc:date>
    <dc:subject>Nasional</dc:subject>
  </item>
</rdf:RDF>"""
    parsed = parse_document(make_doc(rdf), resolve_section=resolver, now=NOW)
    assert parsed.kind == "rss"
    (draft,) = parsed.drafts
    assert (draft.title, draft.url, draft.body) == (
        "Berita RDF",
        "https://rdf.example.id/1",
        "Isi RDF.",
    )
    assert draft.published_at == datetime(2024, 11, 25, 1, 2, 3, tzinfo=UTC)
    assert draft.section == "nasional"


def test_items_without_title_are_rejected_and_the_rest_kept(
    fixture_doc: DocFactory, resolver: RecordingResolver
) -> None:
    parsed = parse_document(
        fixture_doc("feed_missing_title.xml"), resolve_section=resolver, now=NOW
    )
    assert [d.title for d in parsed.drafts] == ["Ada Judul", "Ada Judul Juga"]
    assert parsed.rejected == ["item 2: no title", "item 3: no title"]


def test_items_without_guid_take_their_identity_from_the_link(
    fixture_doc: DocFactory, resolver: RecordingResolver
) -> None:
    parsed = parse_document(fixture_doc("no_guid.xml"), resolve_section=resolver, now=NOW)
    identities = [d.identity for d in parsed.drafts]
    assert identities[:2] == [
        "url:https://contoh.example.id/berita/satu",
        "url:https://contoh.example.id/berita/dua",
    ]
    assert identities[2].startswith("hash:")


def test_a_guid_shared_by_every_item_identifies_none(
    fixture_doc: DocFactory, resolver: RecordingResolver
) -> None:
    parsed = parse_document(fixture_doc("shared_guid.xml"), resolve_section=resolver, now=NOW)
    identities = [d.identity for d in parsed.drafts]
    assert len(set(identities)) == 3
    assert identities[0] == "url:https://contoh.example.id/a"
    assert all(i.startswith("hash:") for i in identities[1:])
    assert not any(i.startswith("guid:") for i in identities)


def test_unique_guids_are_used_when_items_have_no_link(
    fixture_doc: DocFactory, resolver: RecordingResolver
) -> None:
    parsed = parse_document(fixture_doc("unique_guid.xml"), resolve_section=resolver, now=NOW)
    assert [d.identity for d in parsed.drafts] == [
        "guid:https://contoh.example.id/ unik-1",
        "guid:https://contoh.example.id/ unik-2",
    ]


def test_identity_is_stable_across_reads(
    fixture_doc: DocFactory, resolver: RecordingResolver
) -> None:
    for name in ("feed.xml", "shared_guid.xml", "no_guid.xml"):
        first = parse_document(fixture_doc(name), resolve_section=resolver, now=NOW)
        second = parse_document(fixture_doc(name), resolve_section=resolver, now=NOW)
        assert [d.identity for d in first.drafts] == [d.identity for d in second.drafts]
    # Every item of feed.xml is dated (or falls back to the channel date): the clock is irrelevant.
    today = parse_document(fixture_doc("feed.xml"), resolve_section=resolver, now=NOW)
    later = parse_document(
        fixture_doc("feed.xml"), resolve_section=resolver, now=datetime(2025, 1, 1, tzinfo=UTC)
    )
    assert [d.identity for d in today.drafts] == [d.identity for d in later.drafts]


def test_html_entities_in_a_careless_feed_are_understood(
    fixture_doc: DocFactory, resolver: RecordingResolver
) -> None:
    parsed = parse_document(fixture_doc("html_entities.xml"), resolve_section=resolver, now=NOW)
    assert parsed.drafts[0].title == "Harga Emas — Naik"


def test_relative_links_resolve_against_the_fetched_url(
    make_doc: DocFactory, resolver: RecordingResolver
) -> None:
    feed = rss(
        "<item><title>A</title><link>berita/a</link>"
        '<description>&lt;p&gt;x &lt;img src="../img/a.jpg"&gt;&lt;/p&gt;</description></item>'
    )
    doc = make_doc(feed, base_url="https://cdn.example.id/rss/index.xml")
    (draft,) = parse_document(doc, resolve_section=resolver, now=NOW).drafts
    assert draft.url == "https://cdn.example.id/rss/berita/a"
    assert draft.image_url == "https://cdn.example.id/img/a.jpg"


def test_fallbacks_when_an_item_has_only_a_title(
    make_doc: DocFactory, resolver: RecordingResolver
) -> None:
    parsed = parse_document(
        make_doc(rss("<item><title>Hanya &lt;i&gt;judul&lt;/i&gt;</title></item>")),
        resolve_section=resolver,
        now=NOW,
    )
    (draft,) = parsed.drafts
    assert draft.title == "Hanya judul"
    assert draft.body == draft.summary == "Hanya judul"
    assert draft.published_at is None
    assert draft.identity.startswith("hash:")
    assert draft.source == "Uji"
    assert resolver.calls == [[]]


def test_feed_level_categories_apply_to_items_without_their_own(
    make_doc: DocFactory, resolver: RecordingResolver
) -> None:
    feed = rss(
        "<item><title>A</title></item><item><title>B</title><category>Ekonomi</category></item>",
        channel_extra="<category>Olahraga</category>",
    )
    parsed = parse_document(make_doc(feed), resolve_section=resolver, now=NOW)
    assert [d.section for d in parsed.drafts] == ["olahraga", "ekonomi"]


def test_image_from_the_first_img_of_the_content(
    make_doc: DocFactory, resolver: RecordingResolver
) -> None:
    feed = rss(
        "<item><title>A</title><link>https://uji.example.id/a</link>"
        "<content:encoded><![CDATA[<p>x</p><img src='javascript:x'><img src='/f/b.png'>]]>"
        "</content:encoded></item>"
    )
    (draft,) = parse_document(make_doc(feed), resolve_section=resolver, now=NOW).drafts
    assert draft.image_url == "https://uji.example.id/f/b.png"


def test_non_http_links_are_not_stored(make_doc: DocFactory, resolver: RecordingResolver) -> None:
    feed = rss("<item><title>A</title><link>javascript:alert(1)</link></item>")
    (draft,) = parse_document(make_doc(feed), resolve_section=resolver, now=NOW).drafts
    assert draft.url is None
    assert draft.identity.startswith("hash:")


def test_at_most_max_items_per_feed_from_a_url(
    make_doc: DocFactory, resolver: RecordingResolver
) -> None:
    total = MAX_ITEMS + 5
    items = "".join(f"<item><title>B{n}</title><guid>g{n}</guid></item>" for n in range(total))
    parsed = parse_document(make_doc(rss(items)), resolve_section=resolver, now=NOW)
    assert len(parsed.drafts) == MAX_ITEMS
    assert parsed.rejected == []
    assert parsed.skipped == [
        Skipped(
            5,
            f"items {MAX_ITEMS + 1}-{total}: over NEWSBOT_INGEST_MAX_ITEMS={MAX_ITEMS} "
            "for an input read from a URL",
        )
    ]
    smaller = parse_document(
        make_doc(rss(items)), resolve_section=resolver, now=NOW, limits=IngestLimits(max_items=10)
    )
    assert len(smaller.drafts) == 10
    assert smaller.skipped[0].count == total - 10


def test_a_local_feed_has_no_item_limit(tmp_path: Path, resolver: RecordingResolver) -> None:
    total = MAX_ITEMS + 5
    items = "".join(f"<item><title>B{n}</title><guid>g{n}</guid></item>" for n in range(total))
    path = tmp_path / "besar.xml"
    path.write_text(rss(items), encoding="utf-8")
    doc = SourceDocument(str(path), path.read_bytes()[:100], None, None, str(path), False)
    parsed = parse_document(doc, resolve_section=resolver, now=NOW)
    assert len(parsed.drafts) == total
    assert parsed.skipped == []


def test_the_feed_parser_only_ever_gets_bytes(
    fixture_doc: DocFactory, resolver: RecordingResolver, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[object] = []
    real_parse = bot.ingest.feeds.fastfeedparser.parse

    def spy(source: object, **kwargs: Any) -> Any:
        seen.append(source)
        return real_parse(source, **kwargs)

    monkeypatch.setattr(bot.ingest.feeds.fastfeedparser, "parse", spy)
    parse_document(fixture_doc("feed.xml"), resolve_section=resolver, now=NOW)
    assert len(seen) == 1
    # Never a string: fastfeedparser fetches a string that looks like a URL.
    assert isinstance(seen[0], bytes)


def test_utf16_feed(make_doc: DocFactory, resolver: RecordingResolver) -> None:
    feed = rss("<item><title>Berita ñ é</title></item>").replace("UTF-8", "UTF-16")
    parsed = parse_document(make_doc(feed.encode("utf-16")), resolve_section=resolver, now=NOW)
    assert parsed.drafts[0].title == "Berita ñ é"
