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
async def test_latest_takes_a_hashtag_section_as_breaking_does(platform: FakePlatform) -> None:
    reply = await platform.say("/latest #ekonomi jepang")
    assert _titles(reply.parts) == ["Investor Jepang Bangun Pabrik"]
    assert 'Berita terbaru tentang "jepang" di rubrik Ekonomi:' in reply.plain_text()


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
        ("/read -5", "Nomor berita harus berupa angka"),
        ("/read 4.2", "Nomor berita harus berupa angka"),
        ("/read 1e5", "Nomor berita harus berupa angka"),
        ("/read 0", "Berita nomor 0 tidak ada"),
        ("/read #77", "Berita nomor 77 tidak ada"),
        ("/frobnicate", "Perintah /frobnicate tidak dikenal"),
    ],
)
async def test_bad_commands_get_a_short_answer(
    platform: FakePlatform, command: str, answer: str
) -> None:
    assert answer in await platform.say_text(command)


@pytest.mark.parametrize(
    "number",
    [
        "99999999999999999999",  # 20 digits: past SQLite's largest integer
        "9223372036854775808",  # 2**63, one past it
        "99999999999999999999999",
    ],
)
async def test_read_of_a_number_too_big_to_store_says_no_such_story(
    platform: FakePlatform, number: str
) -> None:
    assert await platform.say_text(f"/read {number}") == (
        f"Berita nomor {number} tidak ada. Cari berita dengan /latest."
    )


async def test_read_echoes_a_huge_number_cut_short(platform: FakePlatform) -> None:
    text = await platform.say_text("/read " + "7" * 5_000)
    assert text == "Berita nomor " + "7" * 23 + "… tidak ada. Cari berita dengan /latest."
    assert "nomor berita harus" not in text.lower()


@pytest.mark.usefixtures("archive")
async def test_read_ignores_leading_zeros_however_many(platform: FakePlatform) -> None:
    reply = await platform.say("/latest nato")
    [card] = [part for part in reply.parts if isinstance(part, ArticleCard)]
    padded = str(card.article_id).rjust(30, "0")
    assert "Menteri Pertahanan Jepang" in await platform.say_text(f"/read {padded}")


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


async def test_sections_show_the_other_words_for_each_section(platform: FakePlatform) -> None:
    lines = (await platform.say_text("/sections")).splitlines()
    assert lines[0] == "Rubrik dan nama pendeknya (untuk /subscribe dan /latest):"
    assert "• Nasional — nasional (juga: National, indonesia, dalam negeri)" in lines
    assert "• Olahraga — olahraga (juga: Sports, sport, bola, sepak bola)" in lines
    assert "• Umum — umum (juga: General)" in lines  # the alias "general" is that name again
    await platform.say_text("/lang en")
    lines = (await platform.say_text("/sections")).splitlines()
    assert "• National — nasional (also: indonesia, dalam negeri)" in lines
    assert "• General — umum" in lines  # nothing more to show
    # Every word shown finds its section.
    for number, word in enumerate(("indonesia", "dalam negeri", "sepak bola", "General")):
        assert "Berlangganan rubrik" in await platform.say_text(
            f"/subscribe {word}", chat=f"20{number}"
        ), word


async def test_a_crashing_handler_gets_an_apology_not_a_traceback(
    platform: FakePlatform, app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(**_: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(app.storage.articles, "latest", broken)
    text = await platform.say_text("/latest nato")
    assert text == "Maaf, terjadi kesalahan di pihak kami. Silakan coba beberapa saat lagi."


@pytest.mark.usefixtures("archive")
async def test_latest_takes_a_section_named_in_several_words(platform: FakePlatform) -> None:
    reply = await platform.say("/latest dalam negeri anggaran")
    assert _titles(reply.parts) == ["DPR Bahas Anggaran Pertahanan"]
    assert "di rubrik Nasional" in reply.plain_text()


@pytest.mark.usefixtures("archive")
async def test_latest_does_not_require_very_common_words(platform: FakePlatform) -> None:
    # No Indonesian story contains "the"; required, it would hide every match.
    assert _titles((await platform.say("/latest the nato")).parts) == [
        "Sekjen NATO Kunjungi Tokyo"
    ]
    # Nothing but common words: they are searched for all the same.
    assert _titles((await platform.say("/latest di")).parts) == [
        "Sekjen NATO Kunjungi Tokyo",  # "... di Tokyo."
        "Investor Jepang Bangun Pabrik",  # "... di Jawa Tengah."
    ]
