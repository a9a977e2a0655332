"""Full text of article pages: trafilatura's main text, the page's own metadata around it."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import pytest

import bot.ingest.pages
from bot.ingest.errors import IngestError
from bot.ingest.pages import MainText, extract_main_text
from bot.ingest.report import InputReport
from bot.ingest.runner import ingest_all, parse_document
from storage.models import ArticleDraft, PublishOutcome, PublishResult

if TYPE_CHECKING:
    from pathlib import Path

    from conftest import DocFactory, RecordingResolver

NOW = datetime(2024, 11, 29, 12, 0, tzinfo=UTC)
WIB = timezone(timedelta(hours=7))
SENTENCE = (
    "Warga desa bergotong royong memperbaiki jembatan yang rusak diterjang banjir pekan lalu."
)

LENGKAP_BODY = (
    "Pemerintah kota mulai mengoperasikan enam bus listrik di koridor baru yang menghubungkan "
    "terminal kota dengan pelabuhan, Rabu (27/11/2024). Uji coba berlangsung selama tiga bulan "
    "dan penumpang belum dikenai tarif.\n\n"
    "Kepala Dinas Perhubungan, Hendra Gunawan, mengatakan koridor ini dipilih karena selama ini "
    'hanya dilayani angkutan kota yang jadwalnya tidak menentu. "Pekerja pelabuhan butuh '
    'angkutan yang datang tepat waktu," ujarnya.\n\n'
    "Setiap bus berkapasitas 40 penumpang dan berangkat setiap 15 menit mulai pukul 05.00 hingga "
    "21.00. Pengisian daya dilakukan di depo terminal pada malam hari.\n\n"
    "Selama pekan pertama, dinas mencatat rata-rata 1.200 penumpang per hari. Jumlah itu "
    "diharapkan naik setelah halte tambahan di kawasan pergudangan selesai dibangun.\n\n"
    "Sejumlah penumpang menyambut baik layanan tersebut, meski masih mengeluhkan halte yang "
    "belum beratap. Dinas berjanji memasang atap di seluruh halte sebelum musim hujan mencapai "
    "puncaknya."
)


def page(head: str = "", body: str = "") -> str:
    return f"<!DOCTYPE html><html><head>{head}</head><body>{body}</body></html>"


def test_story_paragraphs_only_from_a_page_full_of_furniture(
    fixture_doc: DocFactory, resolver: RecordingResolver
) -> None:
    """Navigation, a cookie banner, ads, an inline and a listed "Baca juga", tags, share
    buttons, comments, a sidebar and a footer all stay out of the body."""
    doc = fixture_doc(
        "articles/lengkap.html",
        base_url="https://kabarpelita.example.id/regional/bus-listrik-koridor-pelabuhan?utm_source=wa",
    )
    parsed = parse_document(doc, resolve_section=resolver, now=NOW)
    assert parsed.rejected == []
    assert parsed.notes == []
    (draft,) = parsed.drafts
    assert draft.body == LENGKAP_BODY
    assert draft.title == "Bus Listrik Mulai Layani Koridor Pelabuhan"
    assert resolver.calls == [["Regional"]]
    # JSON-LD names the reporter; <meta name="author"> only the newsroom.
    assert draft.author == "Dimas Prasetyo"
    assert draft.published_at == datetime(2024, 11, 27, 9, 45, tzinfo=WIB)
    assert draft.image_url == "https://cdn.kabarpelita.example.id/foto/2024/11/bus-listrik.jpg"
    assert draft.url == "https://kabarpelita.example.id/regional/bus-listrik-koridor-pelabuhan"
    assert draft.source == "Kabar Pelita"
    assert draft.summary == (
        "Enam bus listrik melayani koridor baru dari terminal kota ke pelabuhan selama uji coba "
        "tiga bulan."
    )
    assert draft.push is True


def test_a_page_with_json_ld_only(fixture_doc: DocFactory, resolver: RecordingResolver) -> None:
    # A saved page: no address of its own, so the JSON-LD's mainEntityOfPage gives the URL and
    # the base for the relative image; the data: image is skipped.
    (draft,) = parse_document(
        fixture_doc("articles/hanya_jsonld.html"), resolve_section=resolver, now=NOW
    ).drafts
    assert draft.title == "Petani Garam Madura Panen Lebih Awal"
    assert resolver.calls == [["Ekonomi", "Pertanian"]]
    assert draft.section == "ekonomi"
    assert draft.author == "Nurul Hidayah, Fajar"
    assert draft.published_at == datetime(2024, 11, 26, 14, 10, tzinfo=WIB)
    assert draft.url == "https://suaratimur.example.id/ekonomi/2024/11/26/petani-garam-panen-awal"
    assert draft.image_url == "https://suaratimur.example.id/media/garam-madura.jpg"
    assert draft.source == "Suara Timur"
    assert draft.body == (
        "Petani garam di pesisir selatan Madura memanen lebih awal tahun ini karena musim "
        "kemarau yang panjang membuat air laut lebih cepat mengering di tambak.\n\n"
        "Menurut kelompok tani setempat, panen pertama dimulai pertengahan Juli, hampir tiga "
        "pekan lebih cepat dibanding tahun lalu. Hasilnya pun lebih putih dan kering.\n\n"
        "Namun harga di tingkat pengepul justru turun karena pasokan melimpah. Petani berharap "
        "pemerintah daerah membantu membuka gudang penyimpanan agar garam bisa dijual saat harga "
        "membaik.\n\n"
        "Dinas Kelautan dan Perikanan menyatakan sedang mendata kebutuhan gudang di empat "
        "kecamatan dan akan mengajukan anggarannya tahun depan."
    )
    # No description anywhere: the summary is the start of the body.
    assert draft.summary.startswith("Petani garam di pesisir selatan Madura")


def test_a_page_with_open_graph_only(fixture_doc: DocFactory, resolver: RecordingResolver) -> None:
    (draft,) = parse_document(
        fixture_doc("articles/hanya_og.html"), resolve_section=resolver, now=NOW
    ).drafts
    assert draft.title == "Timnas U-20 Tahan Imbang Tuan Rumah di Laga Perdana"
    assert draft.section == "olahraga"
    # article:author is a profile URL; the byline in the markup names the reporter.
    assert draft.author == "Rudi Hartono"
    assert draft.published_at == datetime(2024, 11, 25, 21, 30, tzinfo=WIB)
    assert draft.url == "https://arenasport.example.id/sepak-bola/timnas-u20-imbang"
    # Protocol-relative og:image, resolved against the page's own URL.
    assert draft.image_url == "https://img.arenasport.example.id/2024/11/timnas-u20.jpg"
    assert draft.source == "Arena Sport"
    assert draft.summary == (
        "Gol penyama kedudukan lahir pada menit ke-88 lewat sundulan bek tengah."
    )
    assert draft.body == (
        "Tim nasional U-20 bermain imbang 1-1 melawan tuan rumah pada laga perdana turnamen "
        "persahabatan, Senin malam. Gol penyama kedudukan dicetak pada menit ke-88.\n\n"
        "Tertinggal sejak babak pertama, pelatih memasukkan dua pemain sayap untuk menambah "
        "tekanan. Perubahan itu membuahkan sepak pojok yang disundul masuk oleh bek tengah.\n\n"
        "Pelatih menilai hasil imbang ini cukup baik mengingat para pemain baru tiba dua hari "
        "sebelum pertandingan. Ia meminta anak asuhnya menjaga kondisi menjelang laga kedua, "
        "Kamis.\n\n"
        "Pada laga kedua, tim akan menghadapi juara bertahan yang memenangi pertandingan "
        "pertamanya dengan skor 3-0."
    )


def test_a_page_without_metadata_falls_back_to_its_markup(
    fixture_doc: DocFactory, resolver: RecordingResolver
) -> None:
    doc = fixture_doc(
        "articles/tanpa_metadata.html",
        base_url="https://wartadesa.example.id/2024/11/perpustakaan-keliling",
    )
    (draft,) = parse_document(doc, resolve_section=resolver, now=NOW).drafts
    assert draft.title == "Perpustakaan Keliling Sambangi Desa Terpencil"
    assert resolver.calls == [[]]
    assert draft.section == "umum"
    assert draft.author is None  # "oleh admin" in the prose is no byline
    # Only a date in the prose ("Kamis, 28 November 2024"): no machine-readable time, so the
    # story takes the time it is stored rather than a date read into words.
    assert draft.published_at is None
    assert draft.url == "https://wartadesa.example.id/2024/11/perpustakaan-keliling"
    assert draft.source == "wartadesa.example.id"
    assert draft.image_url is None
    paragraphs = draft.body.split("\n\n")
    assert len(paragraphs) == 4
    assert paragraphs[0].startswith("Sebuah mobil perpustakaan keliling")
    assert paragraphs[-1].endswith("mulai menulis cerita pendek sendiri.")
    for furniture in ("Beranda", "Diposting", "Bagikan", "Tinggalkan", "Pos-pos", "buletin"):
        assert furniture not in draft.body


def test_a_whole_json_ld_article_body_wins_over_the_page_text(
    make_doc: DocFactory, resolver: RecordingResolver
) -> None:
    ld = (
        '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Judul", '
        f'"articleBody": "{SENTENCE}\\n\\n{SENTENCE.upper()}"}}</script>'
    )
    body = (
        f"<article><h1>Judul</h1><p>{SENTENCE}</p><p>{SENTENCE.upper()}</p>"
        "<p>Keterangan foto yang menempel di tengah teks.</p></article>"
    )
    (draft,) = parse_document(make_doc(page(ld, body)), resolve_section=resolver, now=NOW).drafts
    assert draft.body == f"{SENTENCE}\n\n{SENTENCE.upper()}"


def test_a_teaser_article_body_gives_way_to_the_page_text(
    make_doc: DocFactory, resolver: RecordingResolver
) -> None:
    ld = (
        '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Judul", '
        '"articleBody": "Cuplikan singkat..."}</script>'
    )
    body = f"<article><h1>Judul</h1><p>{SENTENCE}</p><p>{SENTENCE.upper()}</p></article>"
    (draft,) = parse_document(make_doc(page(ld, body)), resolve_section=resolver, now=NOW).drafts
    assert draft.body == f"{SENTENCE}\n\n{SENTENCE.upper()}"


# --- extract_main_text -----------------------------------------------------------------------


def main_text(body: str) -> MainText:
    extracted = extract_main_text(page("<title>Judul</title>", body))
    assert extracted is not None
    return extracted


def test_read_also_lines_and_byline_labels_go_but_prose_stays() -> None:
    extracted = main_text(
        f"""<article><h1>Judul</h1>
        <p>Oleh</p>
        <p>Penulis: Rina Marlina | Editor: Yoga</p>
        <p>{SENTENCE}</p>
        <p><b>Baca juga:</b> <a href="/lain">Berita lain yang tidak terkait</a></p>
        <p>Oleh karena itu, warga meminta pemerintah desa segera menganggarkan perbaikan.</p>
        <p>Simak juga:</p>
        <h2>Dana desa</h2>
        <p>Baca juga buku panduan dana desa yang dibagikan kepada setiap kepala dusun, kata
        dia.</p></article>"""
    )
    assert extracted.paragraphs == (
        SENTENCE,
        "Oleh karena itu, warga meminta pemerintah desa segera menganggarkan perbaikan.",
        "Dana desa",
        "Baca juga buku panduan dana desa yang dibagikan kepada setiap kepala dusun, kata dia.",
    )


def test_short_one_sentence_paragraphs_all_survive_precision_mode() -> None:
    # Indonesian online news often runs one sentence to a paragraph, some with a link.
    story = (
        "Hujan deras mengguyur kota sejak sore.",
        "Sejumlah jalan tergenang.",
        '"Airnya sampai lutut," kata Ani.',
        "Petugas dari dinas sudah dikerahkan.",
        "Banjir surut pukul 22.00.",
        "Tidak ada korban jiwa.",
    )
    paragraphs = "".join(f"<p>{line}</p>" for line in story[:-1])
    extracted = main_text(
        f"<nav><a href='/'>Beranda</a> <a href='/kota'>Kota</a></nav><article><h1>Banjir</h1>"
        f"{paragraphs}<p>Tidak ada <a href='/korban'>korban jiwa</a>.</p></article>"
        "<footer><p>Hak cipta</p></footer>"
    )
    assert extracted.paragraphs == story


def test_line_breaks_stay_within_a_paragraph() -> None:
    extracted = main_text(f"<article><p>{SENTENCE}</p><p>Baris satu<br>baris dua.</p></article>")
    assert extracted.paragraphs == (SENTENCE, "Baris satu\nbaris dua.")


def test_indonesian_furniture_classes_are_dropped() -> None:
    extracted = main_text(
        f"""<div class="konten"><p>{SENTENCE}</p><p>{SENTENCE.upper()}</p>
        <div class="box-iklan"><p>Kredit rumah tanpa uang muka, hubungi kami.</p></div>
        <div id="berita-terkait"><p>Jembatan lain di kecamatan sebelah rusak.</p></div>
        <div class="kolom-komentar"><p>Semoga jembatannya cepat diperbaiki, amin.</p></div>
        <div class="baca-juga"><p>Harga semen naik menjelang akhir tahun.</p></div>
        </div>"""
    )
    assert extracted.paragraphs == (SENTENCE, SENTENCE.upper())


def test_a_furniture_class_on_the_story_itself_does_not_drop_the_story() -> None:
    # The element holds most of the page's text: it is the story, whatever its class says.
    story = "".join(f"<p>{SENTENCE} Bagian {n}.</p>" for n in range(5))
    extracted = main_text(f'<div class="artikel dengan-komentar">{story}</div><p>Kaki.</p>')
    assert len(extracted.paragraphs) >= 5
    assert extracted.paragraphs[0] == f"{SENTENCE} Bagian 0."


def test_nothing_but_navigation_is_no_article() -> None:
    extracted = extract_main_text(
        page("", "<nav><p>Beranda</p></nav><footer><p>Kaki</p></footer>")
    )
    assert extracted is None or extracted.paragraphs == ()


@pytest.mark.parametrize("markup", ["", "   \n  ", "\x00\x00"])
def test_empty_markup_gives_nothing(markup: str) -> None:
    assert extract_main_text(markup) is None


# --- safety and threading --------------------------------------------------------------------


def test_parsing_a_page_makes_no_connection(
    fixture_doc: DocFactory, resolver: RecordingResolver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """trafilatura can fetch URLs, and htmldate too; handed a parsed tree, neither does."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("page parsing tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    for name in ("lengkap", "hanya_jsonld", "hanya_og", "tanpa_metadata"):
        doc = fixture_doc(f"articles/{name}.html", base_url="https://contoh.example.id/berita/1")
        assert parse_document(doc, resolve_section=resolver, now=NOW).drafts


def test_deeply_nested_markup_is_handled_quickly(
    make_doc: DocFactory, resolver: RecordingResolver
) -> None:
    nested = "<div>" * 50_000 + f"<p>{SENTENCE}</p>" + "</div>" * 50_000
    inline = "<p>" + "<b>" * 50_000 + SENTENCE + "</b>" * 50_000 + "</p>"
    for body in (nested, inline):
        started = time.monotonic()
        # The HTML parser stops descending at its depth limit (256): no recursion to exhaust,
        # and what lies deeper is not read.
        with pytest.raises(IngestError, match=r"^no article found in the page$"):
            parse_document(
                make_doc(page("<title>Judul</title>", body)), resolve_section=resolver, now=NOW
            )
        assert time.monotonic() - started < 10.0


@dataclass
class _Publisher:
    drafts: list[ArticleDraft] = field(default_factory=list)

    async def __call__(self, drafts: Sequence[ArticleDraft]) -> Sequence[PublishResult]:
        self.drafts += drafts
        return [
            PublishResult(outcome=PublishOutcome.NEW, article_id=n)
            for n, _ in enumerate(drafts, 1)
        ]


class _Quiet:
    def start(self, total: int) -> None:
        pass

    def done(self, report: InputReport) -> None:
        pass

    def close(self) -> None:
        pass


async def test_ingest_extracts_the_text_off_the_event_loop(
    fixtures_dir: Path, resolver: RecordingResolver, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[threading.Thread] = []
    real = bot.ingest.pages.extract_main_text

    def recording(markup: str) -> MainText | None:
        threads.append(threading.current_thread())
        return real(markup)

    monkeypatch.setattr(bot.ingest.pages, "extract_main_text", recording)
    publish = _Publisher()
    (report,) = await ingest_all(
        [str(fixtures_dir / "articles" / "lengkap.html")],
        publish=publish,
        resolve_section=resolver,
        now=lambda: NOW,
        progress=_Quiet(),
    )
    assert report.ok, report.error
    assert threads
    assert threading.main_thread() not in threads
    (draft,) = publish.drafts
    assert draft.body == LENGKAP_BODY
