"""The one HTML → plain text conversion, and the draft size rules."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.ingest.drafts import (
    MAX_BODY,
    MAX_SUMMARY,
    MAX_TITLE,
    IngestLimits,
    build_draft,
    clean_author,
    clip,
)
from bot.ingest.html_text import collapse_whitespace, html_to_text, plain_to_text

WHEN = datetime(2024, 11, 25, tzinfo=UTC)


def test_blocks_become_paragraphs_and_inline_markup_disappears() -> None:
    markup = "<p>Satu <b>dua</b>\n   tiga.</p><div>Empat</div><ul><li>lima</li><li>enam</li></ul>"
    assert html_to_text(markup) == "Satu dua tiga.\n\nEmpat\n\nlima\n\nenam"


def test_br_is_a_line_break_and_entities_are_decoded() -> None:
    assert html_to_text("<p>A&amp;B<br>C&nbsp;&quot;D&quot; &#8212; &eacute;</p>") == (
        'A&B\nC "D" — é'
    )


def test_scripts_styles_and_comments_are_dropped() -> None:
    markup = (
        "<p>Isi</p><script>alert('x')</script><style>p{}</style><!-- catatan -->"
        "<noscript>aktifkan JS</noscript><p>Akhir</p>"
    )
    assert html_to_text(markup) == "Isi\n\nAkhir"


def test_text_outside_blocks_and_empty_blocks() -> None:
    assert html_to_text("awal <div> </div><div></div> akhir") == "awal\n\nakhir"
    assert html_to_text("") == ""
    assert html_to_text("teks biasa tanpa tag") == "teks biasa tanpa tag"
    assert html_to_text("  Harga &amp; stok\n naik &#8212; https://a.example.id/x ") == (
        "Harga & stok naik — https://a.example.id/x"
    )


def test_deeply_nested_markup_does_not_hit_the_recursion_limit() -> None:
    depth = 3_000
    markup = "<span>" * depth + "dalam" + "</span>" * depth
    assert html_to_text(markup) == "dalam"


def test_plain_text_keeps_paragraphs_and_line_breaks() -> None:
    assert plain_to_text("  Satu\n  dua \r\n\r\n\n Tiga   empat \n\n") == "Satu\ndua\n\nTiga empat"
    assert collapse_whitespace(" a \n\t b ") == "a b"


def test_clip_cuts_at_a_word_boundary_with_an_ellipsis() -> None:
    assert clip("pendek", 10) == "pendek"
    clipped = clip("satu dua tiga empat lima", 15)
    assert clipped == "satu dua tiga…"
    assert len(clipped) <= 15
    # One enormous word is cut inside it rather than emptied.
    assert clip("a" * 50, 10) == "a" * 9 + "…"


def test_build_draft_caps_every_field_and_says_when_the_body_was_cut() -> None:
    word = "kata "
    built = build_draft(
        title=word * 200,
        body=word * 30_000,
        summary=word * 200,
        section="umum",
        published=WHEN,
        now=WHEN,
        limits=IngestLimits(),
        url=None,
    )
    draft = built.draft
    assert len(draft.title) <= MAX_TITLE
    assert len(draft.summary) <= MAX_SUMMARY
    assert len(draft.body) <= MAX_BODY
    assert draft.body.endswith("kata…")
    assert draft.title.endswith("…")
    assert built.body_cut is True
    short = build_draft(
        title="T",
        body=word * 10,
        summary="",
        section="umum",
        published=WHEN,
        now=WHEN,
        limits=IngestLimits(),
        url=None,
    )
    assert short.body_cut is False


def test_the_body_limit_is_a_setting() -> None:
    built = build_draft(
        title="T",
        body="kata " * 1_000,
        summary="",
        section="umum",
        published=WHEN,
        now=WHEN,
        limits=IngestLimits(max_body_chars=1_000),
        url=None,
    )
    assert built.body_cut is True
    assert len(built.draft.body) <= 1_000


def test_build_draft_fills_body_and_summary() -> None:
    draft = build_draft(
        title="  Judul \n saja ",
        body="",
        summary="",
        section="umum",
        published=datetime(2024, 11, 25, 8, 0, tzinfo=UTC),
        now=datetime(2024, 11, 25, 9, 0, tzinfo=UTC),
        limits=IngestLimits(),
        url="https://a.example.id/x?utm_source=t",
        image_url="javascript:alert(1)",
    ).draft
    assert draft.title == "Judul saja"
    assert draft.body == "Judul saja"
    assert draft.summary == "Judul saja"
    assert draft.published_at == datetime(2024, 11, 25, 8, 0, tzinfo=UTC)
    assert draft.url == "https://a.example.id/x"
    assert draft.identity == "url:https://a.example.id/x"
    assert draft.image_url is None


def test_derived_summary_is_the_start_of_the_body() -> None:
    body = "Kalimat pembuka berita. " * 40
    draft = build_draft(
        title="T",
        body=body,
        summary="",
        section="umum",
        published=WHEN,
        now=WHEN,
        limits=IngestLimits(),
        url=None,
    ).draft
    assert body.startswith(draft.summary.removesuffix("…"))
    assert 200 < len(draft.summary) <= 300


def test_control_characters_leave_every_text() -> None:
    draft = build_draft(
        title="Ban\x00jir\x1b[31m Jakarta\u202e",
        body="Air\x07 naik.\r\nWarga\x00 mengungsi.",
        summary="Ring\x08kas",
        section="umum",
        published=WHEN,
        now=WHEN,
        limits=IngestLimits(),
        url=None,
        author="Rina\x00 Hapsari",
        source="Warta\x1f",
    ).draft
    assert draft.title == "Banjir[31m Jakarta"
    assert draft.body == "Air naik.\nWarga mengungsi."
    assert draft.summary == "Ringkas"
    assert draft.author == "Rina Hapsari"
    assert draft.source == "Warta"


def test_clean_author_keeps_only_a_name() -> None:
    assert clean_author("redaksi@warta.example.id (Dimas Pratama)") == "Dimas Pratama"
    assert clean_author("Dimas Pratama <dimas@warta.example.id>") == "Dimas Pratama"
    assert clean_author("  Rina   Hapsari ") == "Rina Hapsari"
    assert clean_author("redaksi@warta.example.id") is None
    assert clean_author("   ") is None
    assert clean_author(None) is None
