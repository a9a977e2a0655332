"""A seeded generator of Indonesian-like news stories, for the benchmarks.

Nothing is downloaded: headlines and summaries are drawn from word lists written here, with
Zipf-like frequencies (a few words everywhere, most words rare), the way news text is. The
same seed and count give the same stories; their dates are relative to `now`, newest last.

Used by every script in bench/ that needs stories: as `ArticleDraft`s to store directly, or
written out as RSS files to ingest.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

from storage.models import ArticleDraft

SECTIONS = (
    "internasional",
    "nasional",
    "ekonomi",
    "olahraga",
    "teknologi",
    "hiburan",
    "kesehatan",
    "umum",
)

# Each section's own words, most typical first.
_TOPICAL = {
    "internasional": (
        "nato perbatasan diplomat kedutaan sanksi gencatan senjata konflik negosiasi"
        " pengungsi perdamaian pbb asean jepang tiongkok amerika eropa rusia ukraina"
        " palestina australia malaysia singapura kunjungan bilateral perjanjian"
    ),
    "nasional": (
        "presiden menteri dpr pemilu kabinet gubernur bupati partai koalisi kampanye"
        " undang-undang mahkamah polisi kejaksaan korupsi pertahanan keamanan tni"
        " pemerintahan daerah desa warga bertahan banjir rob gempa bencana"
    ),
    "ekonomi": (
        "rupiah inflasi harga beras cabai pasar saham investasi ekspor impor pajak"
        " anggaran bank kredit bunga pabrik industri perdagangan pedagang petani"
        " nelayan subsidi bbm listrik pertumbuhan ketahanan pangan"
    ),
    "olahraga": (
        "timnas liga pemain pelatih gol pertandingan juara turnamen stadion klub"
        " bulu tangkis sepak bola atlet medali sea games olimpiade permainan bermain"
        " kemenangan kekalahan final suporter"
    ),
    "teknologi": (
        "aplikasi startup jaringan internet data digital ponsel satelit kecerdasan"
        " buatan keamanan siber peretasan server komputer pengguna platform layanan"
        " teknologi perangkat lunak unduhan"
    ),
    "hiburan": (
        "film festival musik konser penyanyi aktor sutradara album lagu panggung"
        " penonton bioskop serial drama penghargaan budaya tari pertunjukan seniman"
        " pameran"
    ),
    "kesehatan": (
        "rumah sakit dokter pasien vaksin imunisasi puskesmas obat penyakit demam"
        " berdarah stunting gizi kesehatan perawat bpjs pengobatan pencegahan"
        " penularan wabah"
    ),
    "umum": (
        "kota jakarta surabaya bandung medan makassar jalan tol kereta bandara"
        " sekolah siswa guru kampus mahasiswa cuaca hujan kemarau lalu lintas mudik"
        " lebaran ramadan"
    ),
}

# Words any story may use, most common first.
_GENERAL = (
    "yang di dan untuk dengan dari pada akan ini itu dalam tidak juga ke oleh"
    " telah sudah masih lebih para tahun hari baru kata menurut saat setelah"
    " sebelum karena hingga bagi serta antara namun bahwa sejumlah sekitar"
    " pihak orang masyarakat pemerintah indonesia nasional rencana program"
    " kebijakan laporan kegiatan pertemuan keputusan peningkatan penurunan"
    " penanganan pembangunan perbaikan pengawasan bantuan dukungan upaya"
    " membahas menyampaikan mengatakan menjelaskan meminta memastikan"
    " meningkatkan menurunkan menyiapkan mengumumkan menggelar menerima"
    " diperkirakan dilaporkan disebut dijadwalkan ditetapkan dibuka ditutup"
    " besar kecil tinggi rendah cepat lambat penting utama pertama terakhir"
    " pagi siang sore malam senin selasa rabu kamis jumat sabtu minggu"
    " wilayah provinsi kabupaten kecamatan pusat timur barat utara selatan"
)

_NAMES = (
    "Budi Santoso",
    "Siti Rahmawati",
    "Agus Wibowo",
    "Dewi Lestari",
    "Rizky Pratama",
    "Putri Handayani",
    "Hendra Gunawan",
    "Nur Aini",
)


@dataclass(frozen=True, slots=True)
class Story:
    """One generated story, as a feed would carry it."""

    guid: str
    title: str
    summary: str
    section: str
    url: str
    author: str
    published: datetime
    # Whether the feed wraps its summary in markup (as about a fifth of real feeds do).
    markup: bool


def _zipf(words: list[str]) -> list[float]:
    """Cumulative weights that make the n-th word about 1/n as frequent as the first."""
    total = 0.0
    cumulative = []
    for rank in range(1, len(words) + 1):
        total += 1 / rank
        cumulative.append(total)
    return cumulative


def stories(
    count: int,
    *,
    seed: int = 2026,
    now: datetime | None = None,
    every: timedelta = timedelta(seconds=30),
    source: str = "bench",
) -> Iterator[Story]:
    """`count` stories, one every `every` up to `now` (the last is the newest)."""
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    vocabularies = {}
    for section in SECTIONS:
        words = _TOPICAL[section].split() + _GENERAL.split()
        # Mix the topical words into the general ones so that each has its own rank.
        rng.shuffle(words)
        vocabularies[section] = (words, _zipf(words))
    first = now - every * (count - 1)
    for number in range(count):
        section = SECTIONS[rng.randrange(len(SECTIONS))]
        words, weights = vocabularies[section]
        topical = _TOPICAL[section].split()
        title_words = [topical[rng.randrange(len(topical))]]
        title_words += rng.choices(words, cum_weights=weights, k=rng.randint(5, 9))
        sentences = []
        for _ in range(rng.randint(2, 4)):
            sentence = rng.choices(words, cum_weights=weights, k=rng.randint(8, 14))
            sentences.append(" ".join(sentence).capitalize() + ".")
        yield Story(
            guid=f"{source}-{seed}-{number}",
            title=" ".join(title_words).title(),
            summary=" ".join(sentences),
            section=section,
            url=f"https://berita.example/{section}/{seed}/{number}",
            author=_NAMES[number % len(_NAMES)],
            published=first + every * number,
            markup=rng.random() < 0.2,
        )


def draft(story: Story) -> ArticleDraft:
    """The draft the ingest would build from `story`."""
    return ArticleDraft(
        identity=f"url:{story.url}",
        title=story.title,
        body=story.summary,
        summary=story.summary,
        section=story.section,
        published_at=story.published,
        url=story.url,
        author=story.author,
        source="Berita Contoh",
    )


def write_rss(path: Path, items: list[Story], *, title: str = "Berita Contoh") -> None:
    """An RSS 2.0 file of `items`."""
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<rss version="2.0"><channel>',
        f"<title>{escape(title)}</title><link>https://berita.example/</link>",
        "<description>Berita buatan untuk pengukuran</description>",
    ]
    for story in items:
        summary = f"<p>{escape(story.summary)}</p>" if story.markup else story.summary
        lines.append(
            "<item>"
            f"<title>{escape(story.title)}</title>"
            f"<link>{story.url}</link>"
            f'<guid isPermaLink="false">{story.guid}</guid>'
            f"<pubDate>{format_datetime(story.published)}</pubDate>"
            f"<category>{story.section}</category>"
            f"<author>{escape(story.author)}</author>"
            f"<description>{escape(summary)}</description>"
            "</item>"
        )
    lines.append("</channel></rss>")
    path.write_text("\n".join(lines), encoding="utf-8")


def write_feeds(
    directory: Path, *, files: int, per_file: int, seed: int = 2026, now: datetime | None = None
) -> list[Path]:
    """`files` RSS files of `per_file` stories each in `directory`; their paths, in order."""
    generated = stories(files * per_file, seed=seed, now=now)
    paths = []
    for number in range(files):
        path = directory / f"feed-{number:03d}.xml"
        write_rss(path, [next(generated) for _ in range(per_file)], title=f"Berita {number}")
        paths.append(path)
    return paths
