"""Publication dates: read strictly, never normalised into a time nobody wrote, then settled."""

from __future__ import annotations

import io
import json
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.ingest.dates import (
    UnreadableDate,
    read_feed_date,
    read_iso_date,
    settle_date,
)
from bot.ingest.progress import PlainProgress
from bot.ingest.runner import parse_document

if TYPE_CHECKING:
    from conftest import DocFactory, RecordingResolver

    from bot.app import App
    from tests.support import FakeClock, FakePlatform

NOW = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-11-25T09:15:00+07:00", datetime(2024, 11, 25, 2, 15, tzinfo=UTC)),
        ("2024-11-25T02:15:00Z", datetime(2024, 11, 25, 2, 15, tzinfo=UTC)),
        ("2024-11-25 02:15", datetime(2024, 11, 25, 2, 15, tzinfo=UTC)),  # naive: UTC
        ("2024-11-25", datetime(2024, 11, 25, tzinfo=UTC)),
        ("2024-11-25T02:15:00.123456+0000", datetime(2024, 11, 25, 2, 15, tzinfo=UTC)),
        ("2016-12-31T23:59:60Z", datetime(2016, 12, 31, 23, 59, 59, tzinfo=UTC)),  # leap second
        ("9999-12-31T23:59:59Z", datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)),
        ("0001-01-01T00:00:00Z", datetime(1, 1, 1, tzinfo=UTC)),
    ],
)
def test_real_iso_dates_are_read(raw: str, expected: datetime) -> None:
    assert read_iso_date(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("2024-13-45T25:61:00Z", "month must be in 1..12"),
        ("2024-02-30T10:00:00Z", "day is out of range for month"),
        ("2024-11-25T25:00:00Z", "hour must be in 0..23"),
        ("2024-11-25T10:61:00Z", "minute must be in 0..59"),
        ("2024-11-25T10:00:00+99:00", "offset beyond ±14:00"),
        ("2024-11-25T10:00:00+05:75", "minutes of the offset beyond 59"),
        ("0001-01-01T00:00:00+14:00", "out of range"),  # its UTC moment is before year 1
        ("9999-12-31T23:59:59-05:00", "out of range"),  # after year 9999
        ("kemarin sore", "not an ISO 8601 date"),
    ],
)
def test_impossible_iso_dates_are_unreadable(raw: str, reason: str) -> None:
    assert read_iso_date(raw) == UnreadableDate(raw, reason)


def _lenient(text: str) -> time.struct_time:
    """What the feed parser's lenient reading gives: a plausible struct_time."""
    return time.strptime("2025-01-01 03:01", "%Y-%m-%d %H:%M")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Mon, 25 Nov 2024 10:00:00 +0700", datetime(2024, 11, 25, 3, tzinfo=UTC)),
        ("25 Nov 24 10:00 GMT", datetime(2024, 11, 25, 10, tzinfo=UTC)),
        ("Mon, 25 Nov 2024 10:00:00 +9900", UnreadableDate("", "offset beyond ±14:00")),
        ("Mon, 45 Nov 2024 10:00:00 +0000", UnreadableDate("", "day is out of range for month")),
        ("2024-13-45T25:61:00Z", UnreadableDate("", "month must be in 1..12")),
        ("not a date", UnreadableDate("", "not a date")),
        # A form only the feed parser knows: its reading stands.
        ("Monday, November 25, 2024 10:00 AM", datetime(2025, 1, 1, 3, 1, tzinfo=UTC)),
        # The same forms as Indonesian sites write them, in Indonesia's three zones.
        ("Senin, 30 Nov 2026 10:00:00 WIB", datetime(2026, 11, 30, 3, tzinfo=UTC)),
        ("Mon, 30 Nov 2026 10:00:00 wib", datetime(2026, 11, 30, 3, tzinfo=UTC)),
        ("Sabtu 5 Agustus 2026 08:00 WITA", datetime(2026, 8, 5, 0, tzinfo=UTC)),
        ("Jum'at, 4 Desember 2026 pukul 19.30 WIT", datetime(2026, 12, 4, 10, 30, tzinfo=UTC)),
        ("25 Nopember 2024 10:00 WIB", datetime(2024, 11, 25, 3, tzinfo=UTC)),
        ("1 Pebruari 2024 07.05.09 WIB", datetime(2024, 2, 1, 0, 5, 9, tzinfo=UTC)),
        ("Kamis, 3 Des. 2026 10:00 +0700", datetime(2026, 12, 3, 3, tzinfo=UTC)),
        ("2026-11-30 10:00 WIB", datetime(2026, 11, 30, 3, tzinfo=UTC)),
        ("2026-11-30T10:00:00WITA", datetime(2026, 11, 30, 2, tzinfo=UTC)),
        ("Kamis, 3 Des 2026", datetime(2026, 12, 3, tzinfo=UTC)),
        # Numbers only, day first as Indonesia writes them: 05/11 is 5 November, not May 11.
        ("05/11/2026 10:00", datetime(2026, 11, 5, 10, tzinfo=UTC)),
        ("Senin, 30-11-2026 10:00 WIB", datetime(2026, 11, 30, 3, tzinfo=UTC)),
        ("30.11.2026 pukul 19.30 WITA", datetime(2026, 11, 30, 11, 30, tzinfo=UTC)),
        ("30/11/2026", datetime(2026, 11, 30, tzinfo=UTC)),
        ("30/13/2026 10:00", UnreadableDate("", "month must be in 1..12")),
        # Checked like any other: no 31 February, no 25 o'clock.
        ("31 Februari 2026 10:00 WIB", UnreadableDate("", "day is out of range for month")),
        ("Rabu, 30 Desember 2026 25.00 WIB", UnreadableDate("", "hour must be in 0..23")),
        # A year of four digits is the year written, not a two-digit one: 0001 is not 2001.
        ("Mon, 01 Jan 0001 00:00:00 GMT", datetime(1, 1, 1, tzinfo=UTC)),
        ("01 Jan 0001 10:00:00 +0700", datetime(1, 1, 1, 3, tzinfo=UTC)),
        ("01 Jan 0001 02:00:00 +0700", UnreadableDate("", "out of range")),  # year 0 in UTC
        ("Sat, 01 Jan 0099 00:00:00 GMT", datetime(99, 1, 1, tzinfo=UTC)),
    ],
)
def test_feed_dates_are_read_strictly_where_the_form_is_known(
    raw: str, expected: datetime | UnreadableDate
) -> None:
    lenient = None if raw == "not a date" else _lenient(raw)
    got = read_feed_date(raw, lenient)
    if isinstance(expected, UnreadableDate):
        assert isinstance(got, UnreadableDate)
        assert got.reason == expected.reason
        assert got.raw == raw
    else:
        assert got == expected


# Pieces of the date forms read here, shuffled into hostile near-dates.
_DATE_PIECES = st.sampled_from(
    ["30", "31", "00", "99", "2026", "0000", "9999", "/", "-", ".", ":", ",", " ", "Senin,",
     "Jum'at", "Nov", "Desember", "Pebruari", "pukul", "10.00", "25:61", "WIB", "WITA", "WIT",
     "+0700", "+9900", "Z", "GMT", "T", "\u00a0", "\u200b", "٣"]
)  # fmt: skip


@given(st.lists(_DATE_PIECES, max_size=12).map("".join))
def test_no_text_makes_date_reading_fail(raw: str) -> None:
    # Whatever a feed writes, the answer is a moment in UTC, unreadable, or none: never an
    # exception that would lose the feed's other stories.
    got = read_feed_date(raw, None)
    assert got is None or isinstance(got, UnreadableDate) or got.utcoffset() == timedelta(0)


def test_missing_dates_are_none() -> None:
    assert read_feed_date(None, None) is None
    assert read_feed_date("   ", None) is None


def test_settling_dates() -> None:
    ahead = timedelta(minutes=15)
    fine = settle_date(NOW - timedelta(hours=1), now=NOW, max_future=ahead)
    assert (fine.published_at, fine.push, fine.note) == (NOW - timedelta(hours=1), True, None)
    # A little ahead (a clock a few minutes fast) is kept.
    slightly = settle_date(NOW + timedelta(minutes=10), now=NOW, max_future=ahead)
    assert slightly.published_at == NOW + timedelta(minutes=10)
    # Far ahead: the time of ingest, pushed as the new story it is, with a note.
    typo = settle_date(datetime(2099, 1, 1, tzinfo=UTC), now=NOW, max_future=ahead)
    assert (typo.published_at, typo.push) == (None, True)
    assert typo.note == (
        "dated 2099-01-01 00:00 UTC, more than 15 min ahead (NEWSBOT_MAX_FUTURE_MINUTES): "
        "taken as the time of ingest"
    )
    # Junk: the time of ingest, never pushed.
    junk = settle_date(UnreadableDate("not a date", "not a date"), now=NOW, max_future=ahead)
    assert (junk.published_at, junk.push) == (None, False)
    assert (
        junk.note == "date 'not a date' (not a date) unreadable: stored at ingest time, not pushed"
    )
    assert settle_date(None, now=NOW, max_future=ahead).published_at is None


@pytest.mark.parametrize(
    "placeholder",
    [
        datetime(1, 1, 1, tzinfo=UTC),  # Go's and .NET's zero time
        datetime(1753, 1, 1, tzinfo=UTC),  # SQL Server's earliest datetime
        datetime(1900, 1, 1, tzinfo=UTC),
        datetime(1970, 1, 1, tzinfo=UTC),  # Unix time 0
        datetime(1970, 1, 1, 7, tzinfo=timezone(timedelta(hours=7))),  # the same, in WIB
    ],
)
def test_a_placeholder_date_is_stored_at_ingest_time_and_not_pushed(placeholder: datetime) -> None:
    settled = settle_date(placeholder, now=NOW, max_future=timedelta(minutes=15))
    assert (settled.published_at, settled.push) == (None, False)
    assert settled.note is not None
    assert settled.note.endswith(
        "not after 1970-01-01: taken for a placeholder, stored at ingest time, not pushed"
    )


def test_the_placeholder_note_writes_year_one_in_four_digits() -> None:
    settled = settle_date(datetime(1, 1, 1, tzinfo=UTC), now=NOW, max_future=timedelta(0))
    assert settled.note is not None
    assert settled.note.startswith("dated 0001-01-01 00:00 UTC, not after 1970-01-01")


def test_a_date_just_after_1970_is_a_date() -> None:
    moment = datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC)
    settled = settle_date(moment, now=NOW, max_future=timedelta(minutes=15))
    assert (settled.published_at, settled.push, settled.note) == (moment, True, None)


def test_a_feed_with_every_kind_of_bad_date(
    make_doc: DocFactory, resolver: RecordingResolver
) -> None:
    dates = [
        "Mon, 23 Nov 2026 10:00:00 +0700",
        "not a date",
        "2024-13-45T25:61:00Z",
        "Mon, 23 Nov 2026 10:00:00 +9900",
        "9999-12-31T23:59:59Z",
        "Fri, 01 Jan 2099 00:00:00 GMT",
    ]
    items = "".join(
        f"<item><title>Berita {n}</title><guid>b{n}</guid><pubDate>{raw}</pubDate></item>"
        for n, raw in enumerate(dates, start=1)
    )
    feed = (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>U</title>{items}</channel></rss>'
    )
    parsed = parse_document(make_doc(feed), resolve_section=resolver, now=NOW)
    good, junk, impossible, offset, year_9999, year_2099 = parsed.drafts
    assert good.published_at == datetime(2026, 11, 23, 3, tzinfo=UTC)
    for draft in (junk, impossible, offset):
        assert (draft.published_at, draft.push) == (None, False), draft.title
    for draft in (year_9999, year_2099):
        assert (draft.published_at, draft.push) == (None, True), draft.title
    assert [note.split(":")[0] for note in parsed.notes] == [
        "item 2",
        "item 3",
        "item 4",
        "item 5",
        "item 6",
    ]
    assert "'2024-13-45T25:61:00Z' (month must be in 1..12) unreadable" in parsed.notes[1]


def test_a_date_form_only_the_feed_parser_knows_takes_its_reading(
    make_doc: DocFactory, resolver: RecordingResolver
) -> None:
    # Not ISO 8601, RFC 822 nor numbers, so not read strictly; fastfeedparser's reading stands,
    # and the story is dated, not taken for undated or unreadable.
    raw = "Monday, November 23, 2026 10:00 AM"
    item = f"<item><title>A</title><guid>a</guid><pubDate>{raw}</pubDate></item>"
    feed = f'<?xml version="1.0"?><rss version="2.0"><channel><title>U</title>{item}</channel>'
    parsed = parse_document(make_doc(feed + "</rss>"), resolve_section=resolver, now=NOW)
    (draft,) = parsed.drafts
    assert draft.published_at == datetime(2026, 11, 23, 10, tzinfo=UTC)
    assert parsed.notes == []


_HARI = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
_BULAN = (
    *("Januari", "Februari", "Maret", "April", "Mei", "Juni"),
    *("Juli", "Agustus", "September", "Oktober", "November", "Desember"),
)


def test_an_indonesian_feed_dated_in_wib_is_dated_as_written_and_pushed(
    make_doc: DocFactory, resolver: RecordingResolver
) -> None:
    # Read as UTC, "10 minutes ago" in WIB would be 7 hours ahead (taken as the time of ingest,
    # with a note) and "9 hours ago" would be 2 hours ago: wrong times, wrong order in /latest.
    now = datetime.now(UTC).replace(microsecond=0)
    wib = timezone(timedelta(hours=7))
    recent = (now - timedelta(minutes=10)).astimezone(wib)
    older = (now - timedelta(hours=9)).astimezone(wib)
    oldest = (now - timedelta(hours=30)).astimezone(wib)
    dates = [
        f"{recent:%a, %d %b %Y %H:%M:%S} WIB",
        f"{_HARI[older.weekday()]}, {older.day} {_BULAN[older.month - 1]} {older.year} "
        f"pukul {older:%H.%M} WIB",
        f"{oldest:%d/%m/%Y %H:%M} WIB",
    ]
    items = "".join(
        f"<item><title>Berita {n}</title><guid>w{n}</guid><pubDate>{raw}</pubDate></item>"
        for n, raw in enumerate(dates, start=1)
    )
    feed = f'<?xml version="1.0"?><rss version="2.0"><channel><title>W</title>{items}</channel>'
    parsed = parse_document(make_doc(feed + "</rss>"), resolve_section=resolver, now=now)
    first, second, third = parsed.drafts
    assert (first.published_at, first.push) == (now - timedelta(minutes=10), True)
    assert second.published_at == (now - timedelta(hours=9)).replace(second=0)
    assert third.published_at == (now - timedelta(hours=30)).replace(second=0)
    assert parsed.notes == []


def test_an_item_inside_an_item_does_not_shift_the_dates_of_the_items_after_it(
    make_doc: DocFactory, resolver: RecordingResolver
) -> None:
    # fastfeedparser makes no story of an item inside an item; counted here, it would leave
    # every date to fastfeedparser's reading, which has none for an Indonesian date.
    inner = (
        "<item><title>Dalam</title><guid>d</guid><pubDate>24 Nov 2026 10:00 WIB</pubDate></item>"
    )
    items = (
        f"<item><title>Luar</title><guid>l</guid><pubDate>23 Nov 2026 10:00 WIB</pubDate>{inner}"
        "</item><item><title>Tiga</title><guid>t</guid><pubDate>Selasa, 24 Nopember 2026 "
        "pukul 09.30 WIB</pubDate></item>"
    )
    feed = f'<?xml version="1.0"?><rss version="2.0"><channel><title>U</title>{items}</channel>'
    parsed = parse_document(make_doc(feed + "</rss>"), resolve_section=resolver, now=NOW)
    assert [(draft.title, draft.published_at) for draft in parsed.drafts] == [
        ("Luar", datetime(2026, 11, 23, 3, tzinfo=UTC)),
        ("Tiga", datetime(2026, 11, 24, 2, 30, tzinfo=UTC)),
    ]


async def test_a_story_dated_year_one_is_reported_and_the_rest_of_its_input_stored(
    app: App, platform: FakePlatform, tmp_path: Path, clock: FakeClock
) -> None:
    # Year 1 (Go's zero time, as an exporter writes "no date") once crashed the whole ingest
    # in storage, and an RSS date in year 0001 was read as 2001.
    await platform.say("/subscribe nasional")
    recent = (clock() - timedelta(minutes=5)).isoformat()
    jsonl = tmp_path / "ekspor.jsonl"
    jsonl.write_text(
        "\n".join(
            json.dumps({"title": title, "body": "Isi.", "section": "nasional", "published_at": at})
            for title, at in (
                ("Pasar pagi ramai pembeli", recent),
                ("Jembatan baru di Kali Brantas diresmikan gubernur", "0001-01-01T00:00:00Z"),
                ("Sekolah libur karena banjir", recent),
            )
        )
        + "\n",
        encoding="utf-8",
    )
    rss = tmp_path / "kanal.xml"
    rss.write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Kanal</title><item>'
        "<title>Pelabuhan Tanjung Perak diperluas tahun depan</title><guid>p1</guid>"
        "<category>Nasional</category><pubDate>Mon, 01 Jan 0001 00:00:00 GMT</pubDate>"
        "</item></channel></rss>",
        encoding="utf-8",
    )
    reports = await app.ingest(
        [str(jsonl), str(rss)], section=None, progress=PlainProgress(io.StringIO())
    )

    placeholder = (
        "not after 1970-01-01: taken for a placeholder, stored at ingest time, not pushed"
    )
    assert [(r.ok, r.new) for r in reports] == [(True, 3), (True, 1)]
    assert reports[0].notes == (f"line 2: dated 0001-01-01 00:00 UTC, {placeholder}",)
    assert reports[1].notes == (f"item 1: dated 0001-01-01 00:00 UTC, {placeholder}",)
    stored = {
        a.title: a for a in await app.storage.articles.latest(section=None, terms=[], limit=9)
    }
    assert len(stored) == 4
    for title in (
        "Jembatan baru di Kali Brantas diresmikan gubernur",
        "Pelabuhan Tanjung Perak diperluas tahun depan",
    ):
        assert stored[title].published_at == clock()  # the time of ingest, not 2001
    # Only the two stories with real dates were pushed.
    assert await app.storage.outbox.status_counts() == {"pending": 2}
