"""JSON Lines files: fields, line-level rejection, limits."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bot.ingest.drafts import BATCH_SIZE, MAX_ITEMS, IngestLimits, Skipped
from bot.ingest.errors import IngestError
from bot.ingest.runner import parse_batches, parse_document
from bot.ingest.sources import SourceDocument

if TYPE_CHECKING:
    from conftest import DocFactory, RecordingResolver

NOW = datetime(2024, 11, 26, 12, 0, tzinfo=UTC)


def test_jsonl_fixture_fields(fixture_doc: DocFactory, resolver: RecordingResolver) -> None:
    parsed = parse_document(fixture_doc("stories.jsonl"), resolve_section=resolver, now=NOW)
    assert parsed.kind == "jsonl"
    assert parsed.rejected == []
    cabai, gempa, festival = parsed.drafts

    assert cabai.title == "Harga Cabai Turun Jelang Panen Raya"
    assert cabai.body == (
        "Harga cabai rawit di pasar induk turun sepekan terakhir.\n\n"
        "Pedagang menyebut pasokan dari sentra produksi meningkat."
    )
    assert cabai.section == "ekonomi"
    assert cabai.published_at == datetime(2024, 11, 25, 5, 0, tzinfo=timezone(timedelta(hours=7)))
    assert cabai.url == "https://warta.example.id/ekonomi/harga-cabai-turun"
    assert cabai.identity == f"url:{cabai.url}"
    assert cabai.author == "Bayu Saputra"
    assert cabai.image_url == "https://warta.example.id/gambar/cabai.jpg"
    assert cabai.source == "stories.jsonl"
    assert cabai.breaking is False

    # A naive time is UTC, by documented rule.
    assert gempa.published_at == datetime(2024, 11, 25, 2, 10, tzinfo=UTC)
    assert gempa.breaking is True
    assert gempa.identity.startswith("hash:")

    assert festival.identity == "guid:jsonl-003"
    assert festival.body == festival.summary == "Ratusan peserta ikut festival tahunan."
    assert festival.published_at is None  # no date: the time it is first stored
    assert festival.section == "umum"
    assert resolver.calls == [["Ekonomi"], ["Nasional"], ["Gaya Hidup"]]


def test_broken_lines_are_rejected_by_number_and_the_rest_kept(
    fixture_doc: DocFactory, resolver: RecordingResolver
) -> None:
    parsed = parse_document(
        fixture_doc("stories_broken_lines.jsonl"), resolve_section=resolver, now=NOW
    )
    assert [d.title for d in parsed.drafts] == [
        "Baris Pertama Baik",
        "Baris Keenam Baik",
        "Tanggal Rusak",
    ]
    assert parsed.rejected == [
        "line 2: not JSON",
        "line 3: missing title",
        "line 4: not a JSON object",
        "line 8: breaking must be true or false",
        "line 9: body must be a string",
        "line 10: not JSON",
    ]
    # A date that is no date: stored at the time of ingest, never pushed as fresh news.
    unreadable = parsed.drafts[2]
    assert (unreadable.published_at, unreadable.push) == (None, False)
    assert parsed.notes == [
        "line 7: date 'kemarin sore' (not an ISO 8601 date) unreadable: stored at ingest "
        "time, not pushed"
    ]


def test_a_broken_first_line_still_reads_as_jsonl(
    make_doc: DocFactory, resolver: RecordingResolver
) -> None:
    content = 'oops\n{"title": "Baik", "body": "Isi"}\n'
    parsed = parse_document(
        make_doc(content, location="x.jsonl"), resolve_section=resolver, now=NOW
    )
    assert parsed.kind == "jsonl"
    assert [d.title for d in parsed.drafts] == ["Baik"]
    assert parsed.rejected == ["line 1: not JSON"]


def test_invalid_utf8_rejects_only_its_line(
    make_doc: DocFactory, resolver: RecordingResolver
) -> None:
    content = b'{"title": "A", "body": "x"}\n{"title": "B\xff", "body": "x"}\n\xef\xbb\xbf\n'
    parsed = parse_document(make_doc(content), resolve_section=resolver, now=NOW)
    assert [d.title for d in parsed.drafts] == ["A"]
    assert parsed.rejected == ["line 2: not valid UTF-8"]


def test_a_bom_on_the_first_line_is_fine(
    make_doc: DocFactory, resolver: RecordingResolver
) -> None:
    content = '\ufeff{"title": "A", "body": "x"}\n'.encode()
    parsed = parse_document(
        make_doc(content, location="a.jsonl"), resolve_section=resolver, now=NOW
    )
    assert [d.title for d in parsed.drafts] == ["A"]


def test_no_object_lines_is_an_error(fixture_doc: DocFactory, resolver: RecordingResolver) -> None:
    with pytest.raises(IngestError, match=r"^no JSON object lines found$"):
        parse_document(fixture_doc("not_jsonl.jsonl"), resolve_section=resolver, now=NOW)


def test_duplicate_ids_in_one_file_are_not_identities(
    make_doc: DocFactory, resolver: RecordingResolver
) -> None:
    lines = [{"title": f"Judul {n}", "body": "x", "id": 7} for n in range(2)]
    lines.append({"title": "Lain", "body": "x", "id": 8})
    content = "\n".join(json.dumps(line) for line in lines)
    parsed = parse_document(make_doc(content), resolve_section=resolver, now=NOW)
    identities = [d.identity for d in parsed.drafts]
    assert identities[0].startswith("hash:")
    assert identities[1].startswith("hash:")
    assert identities[0] != identities[1]
    assert identities[2] == "guid:8"


def test_non_http_urls_are_dropped(make_doc: DocFactory, resolver: RecordingResolver) -> None:
    line = {
        "title": "A",
        "body": "x",
        "url": "file:///etc/passwd",
        "image_url": "data:image/png;x",
    }
    (draft,) = parse_document(make_doc(json.dumps(line)), resolve_section=resolver, now=NOW).drafts
    assert draft.url is None
    assert draft.image_url is None


def test_at_most_max_items_from_a_url(make_doc: DocFactory, resolver: RecordingResolver) -> None:
    total = MAX_ITEMS + 3
    content = "\n".join(json.dumps({"title": f"J{n}", "body": "x"}) for n in range(total))
    parsed = parse_document(make_doc(content), resolve_section=resolver, now=NOW)
    assert len(parsed.drafts) == MAX_ITEMS
    assert parsed.rejected == []
    assert parsed.skipped == [
        Skipped(
            3,
            f"lines {MAX_ITEMS + 1}-{total}: over NEWSBOT_INGEST_MAX_ITEMS={MAX_ITEMS} "
            "for an input read from a URL",
        )
    ]


def _local(path: Path) -> SourceDocument:
    """A local file as read_source gives it when it is longer than what is read up front."""
    return SourceDocument(str(path), path.read_bytes()[:64], None, None, str(path), False)


def test_a_local_file_is_streamed_without_an_item_limit(
    tmp_path: Path, resolver: RecordingResolver
) -> None:
    total = MAX_ITEMS * 2 + 7
    path = tmp_path / "arsip.jsonl"
    path.write_text(
        "\n".join(json.dumps({"title": f"J{n}", "body": "x", "id": n}) for n in range(total)),
        encoding="utf-8",
    )
    batches = list(
        parse_batches(_local(path), resolve_section=resolver, now=NOW, limits=IngestLimits())
    )
    full = total // BATCH_SIZE
    assert [len(b.drafts) for b in batches] == [BATCH_SIZE] * full + [total - full * BATCH_SIZE]
    assert sum(len(batch.skipped) for batch in batches) == 0
    assert batches[-1].drafts[-1].identity == f"guid:{total - 1}"


def test_a_line_over_the_byte_limit_is_skipped_without_holding_it(
    tmp_path: Path, resolver: RecordingResolver
) -> None:
    path = tmp_path / "satu-baris-raksasa.jsonl"
    huge = json.dumps({"title": "Raksasa", "body": "kata " * 400_000})  # 2 MB on one line
    path.write_text(
        json.dumps({"title": "Kecil", "body": "x"})
        + "\n"
        + huge
        + "\n"
        + json.dumps({"title": "Sesudahnya", "body": "y"})
        + "\n",
        encoding="utf-8",
    )
    parsed = parse_document(
        _local(path),
        resolve_section=resolver,
        now=NOW,
        limits=IngestLimits(max_bytes=1_000_000),
    )
    assert [d.title for d in parsed.drafts] == ["Kecil", "Sesudahnya"]
    assert parsed.skipped == [
        Skipped(1, "line 2: longer than 1 MB (NEWSBOT_INGEST_MAX_BYTES), skipped")
    ]
