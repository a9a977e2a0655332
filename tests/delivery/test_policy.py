"""When a regular push goes out: the rules of digests and quiet hours, time zones included."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.delivery.policy import in_quiet_hours, next_local_time, release_time
from storage.models import DeliveryMode, QuietHours

JAKARTA = ZoneInfo("Asia/Jakarta")
BERLIN = ZoneInfo("Europe/Berlin")
NIGHT = QuietHours(time(22), time(6))
AFTERNOON = QuietHours(time(13), time(15, 30))


def at(zone: ZoneInfo, day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, second, tzinfo=zone)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (at(JAKARTA, 24, 6, 59, 59), at(JAKARTA, 24, 7)),
        (at(JAKARTA, 24, 7), at(JAKARTA, 25, 7)),  # strictly later: never the moment itself
        (at(JAKARTA, 24, 23), at(JAKARTA, 25, 7)),
        (at(JAKARTA, 30, 23), datetime(2026, 12, 1, 7, tzinfo=JAKARTA)),
    ],
)
def test_the_next_local_time_is_the_first_later_moment_the_clock_shows_it(
    moment: datetime, expected: datetime
) -> None:
    found = next_local_time(time(7), moment, JAKARTA)
    assert found == expected
    assert found.tzinfo is UTC


def test_the_next_local_time_follows_daylight_saving_where_the_zone_has_it() -> None:
    # Berlin leaves summer time on 25 Oct 2026 and enters it on 29 Mar 2026.
    before = datetime(2026, 10, 24, 12, tzinfo=BERLIN)
    assert next_local_time(time(7), before, BERLIN) == datetime(2026, 10, 25, 6, tzinfo=UTC)
    after = datetime(2026, 10, 25, 12, tzinfo=BERLIN)
    assert next_local_time(time(7), after, BERLIN) == datetime(2026, 10, 26, 6, tzinfo=UTC)
    # 02:30 does not exist on 29 Mar: it is read with the offset before the change, 03:30.
    skipped = next_local_time(time(2, 30), datetime(2026, 3, 28, 12, tzinfo=BERLIN), BERLIN)
    assert skipped == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    # 02:30 happens twice on 25 Oct: the first one.
    repeated = next_local_time(time(2, 30), datetime(2026, 10, 24, 12, tzinfo=BERLIN), BERLIN)
    assert repeated == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("hours", "clock", "quiet"),
    [
        (NIGHT, time(21, 59, 59), False),
        (NIGHT, time(22), True),
        (NIGHT, time(23, 59), True),
        (NIGHT, time(0), True),
        (NIGHT, time(5, 59, 59), True),
        (NIGHT, time(6), False),
        (NIGHT, time(12), False),
        (AFTERNOON, time(12, 59), False),
        (AFTERNOON, time(13), True),
        (AFTERNOON, time(15, 29), True),
        (AFTERNOON, time(15, 30), False),
    ],
)
def test_quiet_hours_run_from_their_start_up_to_their_end(
    hours: QuietHours, clock: time, quiet: bool
) -> None:
    moment = datetime.combine(at(JAKARTA, 24, 0).date(), clock, tzinfo=JAKARTA)
    assert in_quiet_hours(hours, moment, JAKARTA) is quiet
    # The same moment seen from another zone is the same moment.
    assert in_quiet_hours(hours, moment.astimezone(UTC), JAKARTA) is quiet


def test_quiet_hours_that_start_when_they_end_are_refused() -> None:
    with pytest.raises(ValueError, match="different times"):
        QuietHours(time(6), time(6))


@pytest.mark.parametrize(
    ("mode", "moment", "expected"),
    [
        (DeliveryMode(), at(JAKARTA, 24, 23), None),
        (DeliveryMode(quiet=NIGHT), at(JAKARTA, 24, 21), None),
        (DeliveryMode(quiet=NIGHT), at(JAKARTA, 24, 23), at(JAKARTA, 25, 6)),
        (DeliveryMode(quiet=NIGHT), at(JAKARTA, 25, 2), at(JAKARTA, 25, 6)),
        (DeliveryMode(digest_at=time(7)), at(JAKARTA, 24, 10), at(JAKARTA, 25, 7)),
        (DeliveryMode(digest_at=time(7), quiet=NIGHT), at(JAKARTA, 24, 23), at(JAKARTA, 25, 7)),
        # A digest due in quiet hours waits for their end.
        (DeliveryMode(digest_at=time(5), quiet=NIGHT), at(JAKARTA, 24, 10), at(JAKARTA, 25, 6)),
        (DeliveryMode(digest_at=time(22), quiet=NIGHT), at(JAKARTA, 24, 10), at(JAKARTA, 25, 6)),
    ],
)
def test_release_time(mode: DeliveryMode, moment: datetime, expected: datetime | None) -> None:
    assert release_time(mode, moment, JAKARTA) == expected
