"""/latest, /read, /sections, /help and the error policy, over a fake platform and a real file."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.app import App
from bot.chat import ArticleCard
from tests.support import START, FakePlatform, draft


@pytest.fixture
async def archive(app: App) -> None:
    await app.deps.newsroom.publish(
        [
            draft(
                "Sekjen NATO Kunjungi Tokyo",
                body="Sekjen NATO bertemu Menteri Pertahanan Jepang di Tokyo.",
                section="internasional",
                published_at=START - timedelta(hours=1),
                url="https://contoh.id/nato-tokyo",
            ),
            draft(
                "DPR Bahas Anggaran Pertahanan",
                body="Komisi I membahas anggaran.",
                section="nasional",
                published_at=START - timedelta(hours=2),
            ),
            draft(
                "Investor Jepang Bangun Pabrik",
                body="Pabrik baterai di Jawa Tengah.",
                section="ekonomi",
                published_at=START - timedelta(hours=3),
            ),
            draft(
                "Topan Landa Vietnam",
                body="Warga dievakuasi.",
                section="internasional",
                published_at=START - timedelta(hours=4),
            ),
        ]
    )


def _titles(reply_parts: tuple[object, ...]) -> list[str]:
    return [part.title for part in reply_parts if isinstance(part, ArticleCard)]


@pytest.mark.usefixtures("archive")
async def test_latest_nato_finds_the_story_with_its_card(platform: FakePlatform) -> None:
    reply = await platform.say("/latest nato")
    [card] = [part for part in reply.parts if isinstance(part, ArticleCard)]
    assert card.title == "Sekjen NATO Kunjungi Tokyo"
    assert card.section_name == "Internasional"
    assert card.time_label == "24 Nov 2026 09:00 WIB"
    assert card.url == "https://contoh.id/nato-tokyo"
    assert card.article_id > 0


@pytest.mark.usefixtures("archive")
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("jepang", ["Sekjen NATO Kunjungi Tokyo", "Investor Jepang Bangun Pabrik"]),
        ("Jepang", ["Sekjen NATO Kunjungi Tokyo", "Investor Jepang Bangun Pabrik"]),
        ("pertahanan", ["Sekjen NATO Kunjungi Tokyo", "DPR Bahas Anggaran Pertahanan"]),
        ("bertahan", ["Sekjen NATO Kunjungi Tokyo", "DPR Bahas Anggaran Pertahanan"]),
        ("internasional", ["Sekjen NATO Kunjungi Tokyo", "Topan Landa Vietnam"]),
        ("international", ["Sekjen NATO Kunjungi Tokyo", "Topan Landa Vietnam"]),
        ("INTERNASIONAL nato", ["Sekjen NATO Kunjungi Tokyo"]),
        ("international nato", ["Sekjen NATO Kunjungi Tokyo"]),
        ("ekonomi jepang", ["Investor Jepang Bangun Pabrik"]),
        (
            "",
            [
                "Sekjen NATO Kunjungi Tokyo",
                "DPR Bahas Anggaran Pertahanan",
                "Investor Jepang Bangun Pabrik",
                "Topan Landa Vietnam",
            ],
        ),
    ],
)
async def test_latest_matches_words_and_sections(
    platform: FakePlatform, query: str, expected: list[str]
) -> None:
    reply = await platform.say(f"/latest {query}")
    assert _titles(reply.parts) == expected


@pytest.mark.usefixtures("archive")
@pytest.mark.parametrize(
    "query",
    [
        'nato"',
        "OR",
        "nato OR",
        "a-b",
        "@x",
        "*",
        "🙂",
        "NEAR(nato)",
        "x" * 10_000,
        "kata " * 2_000,
        "section:nasional",
        "{title}:nato",
        "^nato",
        "'",
        ")(",
    ],
)
async def test_latest_ignores_fts_syntax(platform: FakePlatform, query: str) -> None:
    text = await platform.say_text(f"/latest {query}")
    assert "kesalahan" not in text  # the generic apology of the error policy
    assert text
    # A real answer: a list of stories, "nothing about ...", or "no searchable words".
    assert text.startswith(("Berita terbaru", "Tidak ada berita", "Kata kunci Anda")), text


@pytest.mark.usefixtures("archive")
async def test_latest_nato_with_a_stray_quote_still_finds_nato(platform: FakePlatform) -> None:
    reply = await platform.say('/latest nato"')
    assert _titles(reply.parts) == ["Sekjen NATO Kunjungi Tokyo"]


@pytest.mark.usefixtures("archive")
async def test_symbols_alone_show_the_newest_and_say_why(platform: FakePlatform) -> None:
    reply = await platform.say("/latest 🙂 *")
    assert "tidak memuat huruf" in reply.plain_text()
    assert len(_titles(reply.parts)) == 4


@pytest.mark.usefixtures("archive")
async def test_nothing_found_says_so_and_suggests(platform: FakePlatform) -> None:
    text = await platform.say_text("/latest gempa")
    assert 'Tidak ada berita tentang "gempa"' in text
    assert "/latest" in text
    in_section = await platform.say_text("/latest ekonomi nato")
    assert "Coba tanpa rubrik: /latest nato" in in_section


async def test_empty_archive_says_so(platform: FakePlatform) -> None:
    assert "Belum ada berita" in await platform.say_text("/latest")


@pytest.mark.usefixtures("archive")
async def test_read_shows_the_whole_story(platform: FakePlatform) -> None:
    reply = await platform.say("/latest nato")
    [card] = [part for part in reply.parts if isinstance(part, ArticleCard)]
    text = await platform.say_text(f"/read {card.article_id}")
    assert "Menteri Pertahanan Jepang" in text
    assert "Sumber: https://contoh.id/nato-tokyo" in text


@pytest.mark.parametrize(
    ("command", "answer"),
    [
        ("/read", "Cara pakai: /read <nomor berita>"),
        ("/read abc", "Nomor berita harus berupa angka"),
        ("/read ²", "Nomor berita harus berupa angka"),
        ("/read 99999", "Berita nomor 99999 tidak ada"),
        ("/read 99999999999999999999999", "Nomor berita harus berupa angka"),
        ("/frobnicate", "Perintah /frobnicate tidak dikenal"),
    ],
)
async def test_bad_commands_get_a_short_answer(
    platform: FakePlatform, command: str, answer: str
) -> None:
    assert answer in await platform.say_text(command)


async def test_help_lists_commands_from_the_router_and_hides_admin_ones(
    platform: FakePlatform,
) -> None:
    reader = await platform.say_text("/help", user="7")
    for command in ("/latest", "/read", "/subscribe", "/follow", "/lang", "/sections"):
        assert command in reader
    assert "/breaking" not in reader
    assert "/breaking" in await platform.say_text("/help", user="1")  # telegram:1 is an admin


async def test_start_and_sections_answer(platform: FakePlatform) -> None:
    assert "Halo" in await platform.say_text("/start")
    sections = await platform.say_text("/sections")
    assert "Internasional — internasional" in sections


async def test_a_crashing_handler_gets_an_apology_not_a_traceback(
    platform: FakePlatform, app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(**_: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(app.storage.articles, "latest", broken)
    text = await platform.say_text("/latest nato")
    assert text == "Maaf, terjadi kesalahan di pihak kami. Silakan coba lagi sebentar lagi."
