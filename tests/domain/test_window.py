"""Windows: every form of OpenCost's window grammar against a fixed clock, hour alignment, steps, accumulate."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubetally.domain.window import (
    Accumulate,
    CalendarStep,
    Window,
    parse_accumulate,
    parse_duration,
    parse_step,
    parse_window,
    split_window,
)
from kubetally.errors import InvalidParameter, InvalidWindow

# Wednesday 18 November 2026, 14:23:45 UTC; the previous Sunday is the 15th.
NOW = datetime(2026, 11, 18, 14, 23, 45, tzinfo=UTC)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


EXACT_CASES = [
    ("today", utc(2026, 11, 18), utc(2026, 11, 19)),
    ("yesterday", utc(2026, 11, 17), utc(2026, 11, 18)),
    ("week", utc(2026, 11, 15), NOW),
    ("lastweek", utc(2026, 11, 8), utc(2026, 11, 15)),
    ("month", utc(2026, 11, 1), NOW),
    ("lastmonth", utc(2026, 10, 1), utc(2026, 11, 1)),
    ("45m", utc(2026, 11, 18, 13, 39), utc(2026, 11, 18, 14, 24)),
    ("24h", utc(2026, 11, 17, 15), utc(2026, 11, 18, 15)),
    ("7d", utc(2026, 11, 12), utc(2026, 11, 19)),
    ("2w", utc(2026, 11, 5), utc(2026, 11, 19)),
    ("1d offset 7d", utc(2026, 11, 11), utc(2026, 11, 12)),
    ("3h offset 30m", utc(2026, 11, 18, 11), utc(2026, 11, 18, 14)),
    ("yesterday offset 1d", utc(2026, 11, 16), utc(2026, 11, 17)),
    ("1700000000,1700086400", utc(2023, 11, 14, 22, 13, 20), utc(2023, 11, 15, 22, 13, 20)),
    ("2026-11-01T00:00:00Z,2026-11-02T00:00:00Z", utc(2026, 11, 1), utc(2026, 11, 2)),
    (
        "2026-11-01T02:30:00+02:00,2026-11-01T06:00:00.5Z",
        utc(2026, 11, 1, 0, 30),
        datetime(2026, 11, 1, 6, 0, 0, 500000, tzinfo=UTC),
    ),
    ("  Today ", utc(2026, 11, 18), utc(2026, 11, 19)),
    ("1D  OFFSET 7D", utc(2026, 11, 11), utc(2026, 11, 12)),
]


@pytest.mark.parametrize(("text", "start", "end"), EXACT_CASES)
def test_exact_windows(text: str, start: datetime, end: datetime) -> None:
    assert parse_window(text, NOW, align_to_hours=False) == Window(start, end)


ALIGNED_CASES = [
    ("week", utc(2026, 11, 15), utc(2026, 11, 18, 15)),
    ("month", utc(2026, 11, 1), utc(2026, 11, 18, 15)),
    ("45m", utc(2026, 11, 18, 13), utc(2026, 11, 18, 15)),
    ("24h", utc(2026, 11, 17, 15), utc(2026, 11, 18, 15)),
    ("1700000000,1700086400", utc(2023, 11, 14, 22), utc(2023, 11, 15, 23)),
]


@pytest.mark.parametrize(("text", "start", "end"), ALIGNED_CASES)
def test_windows_are_widened_to_whole_hours_by_default(text: str, start: datetime, end: datetime) -> None:
    window = parse_window(text, NOW)
    assert window == Window(start, end)
    assert window.is_hour_aligned


def test_duration_ending_exactly_on_a_boundary_keeps_that_boundary() -> None:
    now = utc(2026, 11, 18, 15)
    assert parse_window("2h", now) == Window(utc(2026, 11, 18, 13), now)
    assert parse_window("1d", utc(2026, 11, 18)) == Window(utc(2026, 11, 17), utc(2026, 11, 18))


def test_lastmonth_across_a_year_boundary() -> None:
    now = utc(2026, 1, 10, 8)
    assert parse_window("lastmonth", now) == Window(utc(2025, 12, 1), utc(2026, 1, 1))
    assert parse_window("month", now) == Window(utc(2026, 1, 1), utc(2026, 1, 10, 8))


def test_week_on_a_sunday_starts_that_day() -> None:
    sunday = utc(2026, 11, 15, 9, 30)
    assert parse_window("week", sunday) == Window(utc(2026, 11, 15), utc(2026, 11, 15, 10))
    assert parse_window("lastweek", sunday) == Window(utc(2026, 11, 8), utc(2026, 11, 15))


def test_now_in_another_timezone_is_read_as_utc() -> None:
    now = NOW.astimezone(timezone(timedelta(hours=-5)))
    assert parse_window("today", now) == Window(utc(2026, 11, 18), utc(2026, 11, 19))


BAD_WINDOWS = [
    ("", "window: window is required"),
    ("foo", "window: invalid window 'foo'; accepted: today, yesterday"),
    ("7y", "window: invalid window '7y'; accepted:"),
    ("-24h", "window: invalid window '-24h'; accepted:"),
    ("0h", "window: invalid window '0h': the duration must be greater than zero"),
    ("24h offset", "window: invalid window '24h offset'; accepted:"),
    ("24h offset soon", "window: invalid duration 'soon'"),
    ("24h 7d", "window: invalid window '24h 7d'; accepted:"),
    ("1,2,3", "window: invalid window '1,2,3': a pair has exactly two parts 'start,end'"),
    ("1700086400,1700000000", "window: invalid window '1700086400,1700000000': end must be after start"),
    ("1700000000,1700000000", "window: invalid window '1700000000,1700000000': end must be after start"),
    (
        "2026-11-01T00:00:00,2026-11-02T00:00:00",
        "window: invalid window '2026-11-01T00:00:00,2026-11-02T00:00:00': a pair must be two unix-second",
    ),
    ("1700000000,2026-11-02T00:00:00Z", "window: invalid window '1700000000,2026-11-02T00:00:00Z': a pair"),
    ("999999999d", "window: invalid window '999999999d': outside the supported range of dates"),
    ("1h offset 99999999999999d", "window: window '1h offset 99999999999999d'...: a number has more than 12 digits"),
    ("1h offset 9999999999d", "window: duration '9999999999d' is too long"),
    ("1,999999999999", "window: invalid window '1,999999999999': outside the supported range of dates"),
    (
        "2026-13-01T00:00:00Z,2026-11-02T00:00:00Z",
        "window: invalid window '2026-13-01T00:00:00Z,2026-11-02T00:00:00Z': '2026-13-01T00:00:00Z' is not a "
        "valid RFC3339 timestamp",
    ),
]


@pytest.mark.parametrize(("text", "message"), BAD_WINDOWS)
def test_bad_windows_name_the_text(text: str, message: str) -> None:
    with pytest.raises(InvalidWindow) as caught:
        parse_window(text, NOW)
    assert str(caught.value).startswith(message)
    assert caught.value.parameter == "window"
    assert caught.value.status == 400


def test_window_rejects_naive_and_empty_ranges() -> None:
    with pytest.raises(InvalidWindow, match="start 2026-11-01T00:00:00 has no timezone"):
        Window(datetime(2026, 11, 1), utc(2026, 11, 2))
    with pytest.raises(InvalidWindow, match="end 2026-11-01T00:00:00Z must be after start 2026-11-02T00:00:00Z"):
        Window(utc(2026, 11, 2), utc(2026, 11, 1))


def test_window_properties() -> None:
    window = Window(utc(2026, 11, 18, 13, 39), utc(2026, 11, 18, 15, 10))
    assert window.duration == timedelta(hours=1, minutes=31)
    assert window.minutes == 91.0
    assert window.hours == (utc(2026, 11, 18, 13), utc(2026, 11, 18, 14), utc(2026, 11, 18, 15))
    assert window.hour_count == 3
    assert not window.is_hour_aligned
    assert window.aligned() == Window(utc(2026, 11, 18, 13), utc(2026, 11, 18, 16))
    assert window.to_json() == {"start": "2026-11-18T13:39:00Z", "end": "2026-11-18T15:10:00Z"}
    assert Window(utc(2026, 11, 1), utc(2026, 11, 2)).hour_count == 24


def test_window_converts_to_utc() -> None:
    plus_two = timezone(timedelta(hours=2))
    window = Window(datetime(2026, 11, 1, 2, tzinfo=plus_two), datetime(2026, 11, 1, 4, tzinfo=plus_two))
    assert window.start.utcoffset() == timedelta(0)
    assert window.start == utc(2026, 11, 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("15m", timedelta(minutes=15)),
        ("1h", timedelta(hours=1)),
        ("1d", timedelta(days=1)),
        ("1w", timedelta(days=7)),
        ("1h30m", timedelta(minutes=90)),
        (" 2D ", timedelta(days=2)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "1", "h", "1.5h", "-1h", "1y", "1 h"])
def test_bad_duration_names_the_parameter(text: str) -> None:
    with pytest.raises(InvalidParameter) as caught:
        parse_duration(text, "offset")
    assert caught.value.parameter == "offset"
    assert str(caught.value) == (
        f"offset: invalid duration {text!r}; expected a positive number with a unit s, m, h, d or w "
        "(e.g. 30s, 15m, 1h, 1d, 1w, 1h30m)"
    )


def test_zero_duration_is_rejected() -> None:
    with pytest.raises(InvalidWindow, match="step: duration '0s' must be greater than zero"):
        parse_duration("0s", "step")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hour", timedelta(hours=1)),
        ("day", timedelta(days=1)),
        ("Week", timedelta(days=7)),
        ("month", CalendarStep.MONTH),
        ("quarter", CalendarStep.QUARTER),
        ("6h", timedelta(hours=6)),
        ("2d", timedelta(days=2)),
    ],
)
def test_parse_step(text: str, expected: object) -> None:
    assert parse_step(text) == expected


def test_bad_steps() -> None:
    with pytest.raises(InvalidWindow, match="step: step '30m' is not a whole number of hours"):
        parse_step("30m")
    with pytest.raises(InvalidWindow, match="step: invalid step 'fortnight'; expected hour, day"):
        parse_step("fortnight")


def test_split_by_duration_anchors_at_start_and_shortens_the_last_piece() -> None:
    window = Window(utc(2026, 11, 18, 2), utc(2026, 11, 18, 12))
    assert split_window(window, timedelta(hours=4)) == [
        Window(utc(2026, 11, 18, 2), utc(2026, 11, 18, 6)),
        Window(utc(2026, 11, 18, 6), utc(2026, 11, 18, 10)),
        Window(utc(2026, 11, 18, 10), utc(2026, 11, 18, 12)),
    ]
    assert split_window(window, timedelta(days=1)) == [window]


def test_split_by_month_cuts_on_the_first() -> None:
    window = Window(utc(2026, 10, 15), utc(2026, 12, 10))
    assert split_window(window, CalendarStep.MONTH) == [
        Window(utc(2026, 10, 15), utc(2026, 11, 1)),
        Window(utc(2026, 11, 1), utc(2026, 12, 1)),
        Window(utc(2026, 12, 1), utc(2026, 12, 10)),
    ]


def test_split_by_quarter_cuts_on_quarter_starts() -> None:
    window = Window(utc(2026, 2, 10), utc(2027, 1, 1))
    assert split_window(window, CalendarStep.QUARTER) == [
        Window(utc(2026, 2, 10), utc(2026, 4, 1)),
        Window(utc(2026, 4, 1), utc(2026, 7, 1)),
        Window(utc(2026, 7, 1), utc(2026, 10, 1)),
        Window(utc(2026, 10, 1), utc(2027, 1, 1)),
    ]


@given(
    start_hour=st.integers(min_value=0, max_value=24 * 400),
    hours=st.integers(min_value=1, max_value=24 * 100),
    step=st.one_of(
        st.integers(min_value=1, max_value=24 * 10).map(lambda h: timedelta(hours=h)),
        st.sampled_from(list(CalendarStep)),
    ),
)
def test_split_pieces_tile_the_window(start_hour: int, hours: int, step: timedelta | CalendarStep) -> None:
    start = utc(2025, 1, 1) + timedelta(hours=start_hour)
    window = Window(start, start + timedelta(hours=hours))
    pieces = split_window(window, step)
    assert pieces[0].start == window.start
    assert pieces[-1].end == window.end
    assert all(a.end == b.start for a, b in itertools.pairwise(pieces))
    if isinstance(step, timedelta):
        assert all(piece.duration == step for piece in pieces[:-1])
        assert pieces[-1].duration <= step
    elif step is CalendarStep.WEEK:
        assert all(piece.start.isoweekday() == 7 and piece.start.hour == 0 for piece in pieces[1:])
    else:
        assert all(piece.start.day == 1 and piece.start.hour == 0 for piece in pieces[1:])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, Accumulate.NONE),
        ("", Accumulate.NONE),
        ("false", Accumulate.NONE),
        ("0", Accumulate.NONE),
        ("true", Accumulate.ALL),
        ("TRUE", Accumulate.ALL),
        ("1", Accumulate.ALL),
        ("all", Accumulate.ALL),
        ("hour", Accumulate.HOUR),
        ("day", Accumulate.DAY),
        ("week", Accumulate.WEEK),
        ("month", Accumulate.MONTH),
        ("quarter", Accumulate.QUARTER),
    ],
)
def test_parse_accumulate(text: str | None, expected: Accumulate) -> None:
    assert parse_accumulate(text) == expected


def test_accumulate_steps() -> None:
    assert Accumulate.NONE.step is None
    assert Accumulate.ALL.step is None
    assert Accumulate.DAY.step == timedelta(days=1)
    assert Accumulate.QUARTER.step is CalendarStep.QUARTER


def test_bad_accumulate_names_the_parameter() -> None:
    with pytest.raises(InvalidWindow) as caught:
        parse_accumulate("yearly", "accumulateBy")
    assert str(caught.value) == (
        "accumulateBy: invalid value 'yearly'; expected true, false, all, hour, day, week, weeknow, month or quarter"
    )


def test_windows_and_steps_at_the_end_of_time() -> None:
    from kubetally.domain.window import CalendarStep, Window, split_window

    late = datetime(9999, 12, 31, 23, 30, tzinfo=UTC)
    with pytest.raises(InvalidWindow, match="outside the supported range"):
        parse_window("9999-12-31T23:30:00Z,9999-12-31T23:45:00Z", late)
    window = Window(datetime(9999, 11, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, tzinfo=UTC))
    assert split_window(window, CalendarStep.MONTH)[-1].end == window.end
    assert split_window(window, timedelta(weeks=1))[-1].end == window.end
