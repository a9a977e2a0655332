"""Publication dates as inputs give them: read strictly, and settled against the clock.

A date an input gives is one of three things: a real moment, nothing at all, or something that
is not a real moment ("not a date", "2024-13-45T25:61:00Z", an offset of +99:00). Lenient parsers
turn the last kind into a plausible but invented time (some normalise month 13 into the
next year); here it stays unreadable, so that the story is stored at the time of ingest, reported,
and never pushed as fresh news on the strength of a date nobody wrote.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_tz

# The widest offsets in use (UTC+14 in Kiribati, UTC-12); anything beyond is a typo or junk.
MAX_OFFSET = timedelta(hours=14)
# No story is dated at or before this: dates there are the zero values that systems write for
# "no date" (Go's and .NET's 0001-01-01, Unix time 0, SQL's 1753 and 1900), and the archive orders
# stories by their seconds since it, so an earlier story could not be placed anyway.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)

# Indonesia's three time zones, by the names Indonesian sites write after a time.
_INDONESIAN_ZONES = {"WIB": 7, "WITA": 8, "WIT": 9}
_ISO = re.compile(
    r"""^(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})
        (?:[T\s](?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,]\d+)?)?)?
        \s*(?P<zone>Z|[+-]\d{2}(?::?\d{2})?|WIB|WITA|WIT)?$""",
    re.IGNORECASE | re.VERBOSE,
)
_ISO_LIKE = re.compile(r"^\d{4}-\d")
# "Mon, 25 Nov 2024 ..." or "25 Nov 2024 ...": the RFC 822 dates of RSS.
_RFC822_LIKE = re.compile(
    r"^(?:[A-Za-z]{2,9},?\s*)?\d{1,2}\s+[A-Za-z]{3,9}\.?\s+(?P<year>\d{2,4})\b"
)

# The same dates as Indonesian feeds write them: "Senin, 30 Nov 2026 10:00:00 WIB",
# "Jum'at, 4 Desember 2026 pukul 19.30 WITA". Day and month names (with the older spellings
# Pebruari and Nopember), "pukul" and a dotted time are put in RFC 822's words before reading.
_INDONESIAN_DAYS = frozenset(
    {"senin", "selasa", "rabu", "kamis", "jumat", "jum'at", "sabtu", "minggu", "ahad"}
)
_INDONESIAN_MONTHS = {
    name: english
    for english, names in (
        ("Jan", ("januari",)),
        ("Feb", ("februari", "pebruari", "peb")),
        ("Mar", ("maret",)),
        ("Apr", ("april",)),
        ("May", ("mei",)),
        ("Jun", ("juni",)),
        ("Jul", ("juli",)),
        ("Aug", ("agustus", "agu", "agt", "ags")),
        ("Sep", ("september", "sept")),
        ("Oct", ("oktober", "okt")),
        ("Nov", ("november", "nopember", "nop")),
        ("Dec", ("desember", "des")),
    )
    for name in names
}
_DOTTED_TIME = re.compile(r"^\d{1,2}\.\d{2}(?:\.\d{2})?$")
# "30/11/2026 10:00 WIB", "30-11-2026 pukul 10.00": numbers only, day first as Indonesia writes
# them (lenient parsers read 05/11 as May 11).
_NUMERIC = re.compile(
    r"""^(?P<day>\d{1,2})(?P<separator>[/.-])(?P<month>\d{1,2})(?P=separator)(?P<year>\d{4})
        (?:[\s,]+(?:pukul\s+)?(?P<hour>\d{1,2})[:.](?P<minute>\d{2})(?:[:.](?P<second>\d{2}))?)?
        \s*(?P<zone>Z|[+-]\d{2}(?::?\d{2})?|WIB|WITA|WIT)?$""",
    re.IGNORECASE | re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class UnreadableDate:
    """A date field that names no real moment; `reason` says why, for the ingest report."""

    raw: str
    reason: str

    def describe(self) -> str:
        """`'2024-13-45' (month must be in 1..12)` for a report line, the raw text bounded."""
        shown = self.raw if len(self.raw) <= 40 else self.raw[:39] + "…"
        return f"{shown!r} ({self.reason})"


PublicationDate = datetime | UnreadableDate | None
"""What an input says of when a story was published: a moment, junk, or nothing."""


def _checked(moment: datetime) -> datetime | UnreadableDate:
    """`moment` in UTC, or unreadable when its offset or its UTC form cannot exist."""
    offset = moment.utcoffset()
    if offset is not None and abs(offset) > MAX_OFFSET:
        return UnreadableDate(moment.isoformat(), "offset beyond ±14:00")
    try:
        return moment.astimezone(UTC) if offset is not None else moment.replace(tzinfo=UTC)
    except (OverflowError, ValueError):
        return UnreadableDate(moment.isoformat(), "out of range")


def _zone(text: str | None) -> timezone | UnreadableDate | None:
    if not text:
        return None
    if text.upper() == "Z":
        return UTC
    if text.upper() in _INDONESIAN_ZONES:
        return timezone(timedelta(hours=_INDONESIAN_ZONES[text.upper()]))
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if minutes >= 60:
        return UnreadableDate(text, "minutes of the offset beyond 59")
    offset = timedelta(hours=hours, minutes=minutes)
    if offset > MAX_OFFSET:
        return UnreadableDate(text, "offset beyond ±14:00")
    return timezone(sign * offset)


def read_iso_date(raw: str) -> datetime | UnreadableDate:
    """An ISO 8601 date or date-time; without an offset it is taken as UTC (a stated rule).

    Every field is checked, never normalised: month 13 or 25:61 is unreadable.
    """
    text = raw.strip()
    match = _ISO.match(text)
    if match is None:
        try:
            # Forms the pattern leaves out (week dates, compact "20241125T0915Z") but that
            # Python reads without normalising anything.
            return _checked(datetime.fromisoformat(text))
        except ValueError:
            return UnreadableDate(raw, "not an ISO 8601 date")
    return _moment(raw, match)


def _moment(raw: str, match: re.Match[str]) -> datetime | UnreadableDate:
    """The moment a match of `_ISO` or `_NUMERIC` names, every field checked."""
    zone = _zone(match["zone"])
    if isinstance(zone, UnreadableDate):
        return UnreadableDate(raw, zone.reason)
    # A leap second (23:59:60) is a real moment that datetime cannot hold.
    second = min(int(match["second"] or 0), 59)
    try:
        moment = datetime(
            int(match["year"]),
            int(match["month"]),
            int(match["day"]),
            int(match["hour"] or 0),
            int(match["minute"] or 0),
            second,
            tzinfo=zone or UTC,
        )
    except ValueError as error:
        return UnreadableDate(raw, str(error))
    checked = _checked(moment)
    return UnreadableDate(raw, checked.reason) if isinstance(checked, UnreadableDate) else checked


def _without_day_name(text: str) -> list[str]:
    """The words of `text`, less a leading Indonesian day name ("Senin," "Jum'at")."""
    words = text.split()
    if words and words[0].rstrip(",").lower() in _INDONESIAN_DAYS:
        return words[1:]
    return words


def _in_rfc822_words(text: str) -> str:
    """`text` with Indonesian day, month and zone names, "pukul" and dotted times in RFC 822's
    words, and midnight after a date without a time; any other text unchanged."""
    words = _without_day_name(text)
    shown: list[str] = []
    for word in words:
        folded = word.rstrip(".,").lower()
        if folded in _INDONESIAN_MONTHS:
            shown.append(_INDONESIAN_MONTHS[folded])
        elif folded == "pukul":
            continue
        elif word.upper() in _INDONESIAN_ZONES:
            shown.append(f"+{_INDONESIAN_ZONES[word.upper()]:02d}00")
        elif _DOTTED_TIME.match(word):
            shown.append(word.replace(".", ":"))
        else:
            shown.append(word)
    if len(shown) == 3:
        shown.append("00:00")  # "3 Des 2026": RFC 822 wants a time
    return " ".join(shown)


def read_numeric_date(raw: str) -> datetime | UnreadableDate | None:
    """A date in numbers, day first ("30/11/2026 10.00 WIB"), every field checked; None when
    it is not in that form. Without a zone it is taken as UTC, as an ISO date is."""
    match = _NUMERIC.match(" ".join(_without_day_name(raw)))
    return None if match is None else _moment(raw, match)


def read_rfc822_date(raw: str) -> datetime | UnreadableDate | None:
    """An RSS (RFC 822) date, every field checked; None when it is not in that form at all.

    The same form in Indonesian ("Senin, 30 Nov 2026 10.00 WIB") is read too.
    """
    words = _in_rfc822_words(raw)
    shape = _RFC822_LIKE.match(words)
    fields = parsedate_tz(words) if shape else None
    if shape is None or fields is None:
        return None
    year, month, day, hour, minute, second = fields[:6]
    if len(shape["year"]) == 4:
        # As written: parsedate_tz takes any year below 100 for a two-digit one (0001 as 2001).
        year = int(shape["year"])
    offset_seconds = fields[9] or 0
    if abs(offset_seconds) > MAX_OFFSET.total_seconds():
        return UnreadableDate(raw, "offset beyond ±14:00")
    try:
        moment = datetime(
            year,
            month,
            day,
            hour,
            minute,
            min(second, 59),
            tzinfo=timezone(timedelta(seconds=offset_seconds)),
        )
    except ValueError as error:
        return UnreadableDate(raw, str(error))
    checked = _checked(moment)
    return UnreadableDate(raw, checked.reason) if isinstance(checked, UnreadableDate) else checked


def _read_strictly(text: str) -> datetime | UnreadableDate | None:
    """`text` read as ISO 8601, RFC 822 or numbers, whichever form it has; None for another."""
    if _ISO_LIKE.match(text):
        return read_iso_date(text)
    strict = read_rfc822_date(text)
    return strict if strict is not None else read_numeric_date(text)


def read_feed_date(raw: object, lenient: time.struct_time | None) -> PublicationDate:
    """A feed item's date from its raw text, with the feed parser's reading (`lenient`) as a
    fallback.

    The common forms (ISO 8601, RFC 822, in English or Indonesian, and day-first numbers) are
    read strictly here. Only a date in another form (the feed parser knows some) is taken from
    its reading, which then vouches for it.
    """
    if not isinstance(raw, str) or not raw.strip():
        return None
    strict = _read_strictly(raw.strip())
    if strict is not None:
        return strict
    if lenient is None:
        return UnreadableDate(raw, "not a date")
    try:
        return datetime(*lenient[:6], tzinfo=UTC)
    except (ValueError, OverflowError) as error:
        return UnreadableDate(raw, str(error))


@dataclass(frozen=True, slots=True)
class SettledDate:
    """The publication time a draft gets, and whether it may be pushed as new.

    `published_at` None means "the time of ingest": storage stamps the story when it first
    stores it and keeps that stamp when the story comes again.
    """

    published_at: datetime | None
    push: bool = True
    note: str | None = None


def settle_date(date: PublicationDate, *, now: datetime, max_future: timedelta) -> SettledDate:
    """Apply the rules: junk, and a date at or before `EARLIEST` (a placeholder), is stored at
    ingest time and never pushed; a date more than `max_future` ahead of `now` (a typo'd year,
    a wrong clock) is taken as the time of ingest.
    """
    if date is None:
        return SettledDate(None)
    if isinstance(date, UnreadableDate):
        return SettledDate(
            None,
            push=False,
            note=f"date {date.describe()} unreadable: stored at ingest time, not pushed",
        )
    if date <= EARLIEST:
        # strftime would write year 1 as "1"; the note shows the date as it is usually written.
        day = f"{date.year:04d}-{date.month:02d}-{date.day:02d} {date:%H:%M}"
        return SettledDate(
            None,
            push=False,
            note=f"dated {day} UTC, not after {EARLIEST:%Y-%m-%d}: taken for a placeholder, "
            "stored at ingest time, not pushed",
        )
    if date > now + max_future:
        minutes = int(max_future.total_seconds() // 60)
        return SettledDate(
            None,
            note=f"dated {date:%Y-%m-%d %H:%M} UTC, more than {minutes} min ahead "
            "(NEWSBOT_MAX_FUTURE_MINUTES): taken as the time of ingest",
        )
    return SettledDate(date)
