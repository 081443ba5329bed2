"""Windows: the time ranges queries cover, parsed from OpenCost's window grammar.

A :class:`Window` is a half-open UTC interval ``[start, end)``. The ledger stores one row per hour bucket, so
:func:`parse_window` widens every window to whole hours (start rounded down, end rounded up): a ``45m`` window
reads the one or two hour buckets it touches, and the response reports the widened window, so the figures and
the window they claim to cover always agree. The clock is a parameter: nothing here reads the current time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from kubetally.errors import InvalidWindow

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
WEEK = timedelta(weeks=1)

_UNITS: dict[str, timedelta] = {
    "s": timedelta(seconds=1),
    "m": timedelta(minutes=1),
    "h": HOUR,
    "d": DAY,
    "w": WEEK,
}
_DURATION = re.compile(r"(?:\d+[smhdw])+")
_LONG_NUMBER = re.compile(r"\d{13,}")
"""A run of more digits than any supported duration or timestamp needs (refused before ``int()``)."""
MAX_TEXT_CHARS = 256
"""The longest window, step or duration text accepted."""
_DURATION_PART = re.compile(r"(\d+)([smhdw])")
_WINDOW_DURATION = re.compile(r"(\d+)([mhdw])")
_UNIX_PAIR = re.compile(r"(\d{1,12}),(\d{1,12})")
_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})",
)
_KEYWORDS = ("today", "yesterday", "week", "lastweek", "month", "lastmonth")
_ACCEPTED = (
    "today, yesterday, week, lastweek, month, lastmonth; a duration such as 45m, 24h, 7d, 2w, optionally "
    "followed by 'offset <duration>' (e.g. '1d offset 7d'); a unix-seconds pair 'start,end'; or an RFC3339 "
    "pair '2026-11-01T00:00:00Z,2026-11-02T00:00:00Z'"
)


@dataclass(frozen=True)
class Window:
    """A half-open time range ``[start, end)``; both ends are timezone-aware and stored in UTC."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        for name, value in (("start", self.start), ("end", self.end)):
            if value.tzinfo is None or value.utcoffset() is None:
                raise InvalidWindow(f"{name} {value.isoformat()} has no timezone; windows are timezone-aware")
        object.__setattr__(self, "start", self.start.astimezone(UTC))
        object.__setattr__(self, "end", self.end.astimezone(UTC))
        if self.end <= self.start:
            raise InvalidWindow(
                f"end {_iso(self.end)} must be after start {_iso(self.start)}",
            )

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    @property
    def minutes(self) -> float:
        """Length of the window in minutes (OpenCost's ``minutes``)."""
        return self.duration / timedelta(minutes=1)

    @property
    def hours(self) -> tuple[datetime, ...]:
        """Starts of the hour buckets the window touches (all of them, even partly covered ones)."""
        first = floor_to(self.start, HOUR)
        return tuple(first + i * HOUR for i in range(self.hour_count))

    @property
    def hour_count(self) -> int:
        """Number of hour buckets the window touches."""
        return (ceil_to(self.end, HOUR) - floor_to(self.start, HOUR)) // HOUR

    @property
    def is_hour_aligned(self) -> bool:
        return floor_to(self.start, HOUR) == self.start and floor_to(self.end, HOUR) == self.end

    def aligned(self) -> Window:
        """The smallest window of whole hour buckets that contains this one."""
        return Window(floor_to(self.start, HOUR), ceil_to(self.end, HOUR))

    def to_json(self) -> dict[str, str]:
        """OpenCost's ``{"start": ..., "end": ...}`` with RFC3339 UTC timestamps."""
        return {"start": _iso(self.start), "end": _iso(self.end)}

    def __str__(self) -> str:
        return f"{_iso(self.start)},{_iso(self.end)}"


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def floor_to(value: datetime, unit: timedelta) -> datetime:
    """``value`` rounded down to a multiple of ``unit`` since the Unix epoch (UTC)."""
    return value - (value.astimezone(UTC) - _EPOCH) % unit


def ceil_to(value: datetime, unit: timedelta) -> datetime:
    """``value`` rounded up to a multiple of ``unit`` since the Unix epoch; unchanged when already aligned."""
    floored = floor_to(value, unit)
    return floored if floored == value else floored + unit


def _require_utc_now(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(UTC)


def parse_duration(text: str, parameter: str = "window") -> timedelta:
    """A positive duration such as ``30s``, ``15m``, ``1h``, ``1d``, ``1w`` or a sum like ``1h30m``.

    Raises :class:`InvalidWindow` naming ``parameter`` when the text is not a positive duration.
    """
    cleaned = text.strip().lower()
    _check_size(text, parameter)
    if not _DURATION.fullmatch(cleaned):
        raise InvalidWindow(
            f"invalid duration {text!r}; expected a positive number with a unit s, m, h, d or w "
            "(e.g. 30s, 15m, 1h, 1d, 1w, 1h30m)",
            parameter,
        )
    try:
        total = sum(
            (int(count) * _UNITS[unit] for count, unit in _DURATION_PART.findall(cleaned)),
            timedelta(),
        )
    except OverflowError:
        raise InvalidWindow(f"duration {text!r} is too long", parameter) from None
    if total <= timedelta():
        raise InvalidWindow(f"duration {text!r} must be greater than zero", parameter)
    return total


def _check_size(text: str, parameter: str) -> None:
    """Refuse texts and numbers too long for any valid value, before they reach ``int()``."""
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidWindow(
            f"{parameter} is {len(text)} characters long; at most {MAX_TEXT_CHARS} are allowed", parameter
        )
    if _LONG_NUMBER.search(text):
        raise InvalidWindow(f"{parameter} {text[:40]!r}...: a number has more than 12 digits", parameter)


def parse_window(text: str, now: datetime, *, align_to_hours: bool = True) -> Window:
    """Parse an OpenCost window expression relative to ``now``.

    With ``align_to_hours`` (the default, and what every ledger query uses) the result is widened to whole
    hour buckets; without it the exact OpenCost window is returned.
    """
    utc_now = _require_utc_now(now)
    _check_size(text, "window")
    try:
        window = _parse_exact(text, utc_now)
        return window.aligned() if align_to_hours else window
    except (OverflowError, ValueError) as exc:
        raise InvalidWindow(f"invalid window {text!r}: outside the supported range of dates") from exc


def _parse_exact(text: str, now: datetime) -> Window:
    cleaned = " ".join(text.strip().split()).lower()
    if not cleaned:
        raise InvalidWindow(f"window is required; accepted: {_ACCEPTED}")
    if "," in cleaned:
        return _parse_pair(text.strip())
    base, sep, offset_text = cleaned.partition(" offset ")
    if sep:
        now -= parse_duration(offset_text, "window")
    elif " " in cleaned:
        raise InvalidWindow(f"invalid window {text!r}; accepted: {_ACCEPTED}")
    if base in _KEYWORDS:
        return _keyword_window(base, now)
    match = _WINDOW_DURATION.fullmatch(base)
    if match is None:
        raise InvalidWindow(f"invalid window {text!r}; accepted: {_ACCEPTED}")
    count, unit = int(match.group(1)), match.group(2)
    if count == 0:
        raise InvalidWindow(f"invalid window {text!r}: the duration must be greater than zero")
    boundary = DAY if unit == "w" else _UNITS[unit]
    end = ceil_to(now, boundary)
    return Window(end - count * _UNITS[unit], end)


def _keyword_window(keyword: str, now: datetime) -> Window:
    # At exactly Sunday / the 1st 00:00, "week" / "month" would be empty: they keep one microsecond, which
    # hour alignment widens to the first hour.
    today = floor_to(now, DAY)
    sunday = today - (today.isoweekday() % 7) * DAY
    first_of_month = today.replace(day=1)
    windows = {
        "today": lambda: Window(today, today + DAY),
        "yesterday": lambda: Window(today - DAY, today),
        "week": lambda: Window(sunday, max(now, sunday + timedelta(microseconds=1))),
        "lastweek": lambda: Window(sunday - WEEK, sunday),
        "month": lambda: Window(first_of_month, max(now, first_of_month + timedelta(microseconds=1))),
        "lastmonth": lambda: Window(_add_months(first_of_month, -1), first_of_month),
    }
    return windows[keyword]()


def _add_months(first_of_month: datetime, months: int) -> datetime:
    index = first_of_month.year * 12 + first_of_month.month - 1 + months
    return first_of_month.replace(year=index // 12, month=index % 12 + 1, day=1)


def _parse_pair(text: str) -> Window:
    parts = [part.strip() for part in text.split(",")]
    if len(parts) != 2:
        raise InvalidWindow(f"invalid window {text!r}: a pair has exactly two parts 'start,end'")
    joined = ",".join(parts)
    if _UNIX_PAIR.fullmatch(joined):
        start, end = (datetime.fromtimestamp(int(part), UTC) for part in parts)
    elif all(_RFC3339.fullmatch(part) for part in parts):
        start, end = (_parse_rfc3339(part, text) for part in parts)
    else:
        raise InvalidWindow(
            f"invalid window {text!r}: a pair must be two unix-second timestamps or two RFC3339 timestamps "
            "with a timezone (e.g. 2026-11-01T00:00:00Z,2026-11-02T00:00:00Z)"
        )
    if end <= start:
        raise InvalidWindow(f"invalid window {text!r}: end must be after start")
    return Window(start, end)


def _parse_rfc3339(part: str, text: str) -> datetime:
    normalised = part.upper().replace("Z", "+00:00")
    fraction = re.search(r"\.(\d+)", normalised)
    if fraction is not None and len(fraction.group(1)) > 6:
        normalised = normalised.replace(fraction.group(0), "." + fraction.group(1)[:6])
    try:
        return datetime.fromisoformat(normalised)
    except ValueError as exc:
        raise InvalidWindow(f"invalid window {text!r}: {part!r} is not a valid RFC3339 timestamp") from exc


class CalendarStep(StrEnum):
    """Steps of varying length, aligned to calendar boundaries (UTC)."""

    WEEK = "week"
    """Calendar weeks, Sunday 00:00 UTC to Sunday (OpenCost's week), for ``accumulate=weeknow``."""
    MONTH = "month"
    QUARTER = "quarter"


Step = timedelta | CalendarStep
"""A step: a fixed duration (anchored at the window start) or a calendar period."""

_NAMED_STEPS: dict[str, Step] = {
    "hour": HOUR,
    "hourly": HOUR,
    "day": DAY,
    "daily": DAY,
    "week": WEEK,
    "weekly": WEEK,
    "month": CalendarStep.MONTH,
    "monthly": CalendarStep.MONTH,
    "quarter": CalendarStep.QUARTER,
    "quarterly": CalendarStep.QUARTER,
}


def parse_step(text: str, parameter: str = "step") -> Step:
    """A step: ``hour``, ``day``, ``week``, ``month``, ``quarter`` or a whole number of hours (``1h``, ``2d``)."""
    cleaned = text.strip().lower()
    _check_size(text, parameter)
    if cleaned in _NAMED_STEPS:
        return _NAMED_STEPS[cleaned]
    step = parse_duration(cleaned, parameter) if _DURATION.fullmatch(cleaned) else None
    if step is None:
        raise InvalidWindow(
            f"invalid step {text!r}; expected hour, day, week, month, quarter or a duration in whole hours "
            "(e.g. 1h, 6h, 1d, 1w)",
            parameter,
        )
    if step % HOUR:
        raise InvalidWindow(
            f"step {text!r} is not a whole number of hours; the ledger's resolution is one hour", parameter
        )
    return step


def split_window(window: Window, step: Step) -> list[Window]:
    """Consecutive sub-windows covering ``window``.

    A duration step starts at the window start and the last piece may be shorter. A calendar step cuts at the
    first day of each month (quarter: January, April, July, October), so the first and last pieces may be
    partial.
    """
    if step is CalendarStep.WEEK:
        today = floor_to(window.start, DAY)
        sunday = today - (today.isoweekday() % 7) * DAY
        count = -(-(window.end - sunday) // WEEK)
        cuts = [min(sunday + (i + 1) * WEEK, window.end) for i in range(count)]
    elif isinstance(step, CalendarStep):
        months = 1 if step is CalendarStep.MONTH else 3
        cuts = []
        cut = _add_months(floor_to(window.start, DAY).replace(day=1), 0)
        cut = _add_months(cut, -((cut.month - 1) % months))
        while cut < window.end:
            try:
                cut = _add_months(cut, months)
            except (OverflowError, ValueError):  # past year 9999: the window's end is the last cut
                cut = window.end
            cuts.append(min(cut, window.end))
    else:
        if step <= timedelta():
            raise InvalidWindow("step must be greater than zero", "step")
        count = -(-window.duration // step)
        cuts = [window.start + (i + 1) * step if (i + 1) * step < window.duration else window.end for i in range(count)]
    pieces = []
    start = window.start
    for end in cuts:
        if end > start:
            pieces.append(Window(start, end))
            start = end
    return pieces


class Accumulate(StrEnum):
    """How the sets of a query are accumulated (OpenCost ``accumulate`` / ``accumulateBy``).

    ``NONE`` keeps one set per step; ``ALL`` sums every step into one set; the others sum steps into
    periods of that length.
    """

    NONE = "none"
    ALL = "all"
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    WEEKNOW = "weeknow"
    """Calendar weeks (Sunday to Sunday, UTC), the last one up to the window's end: OpenCost UI's "Week (calendar)"."""
    MONTH = "month"
    QUARTER = "quarter"

    @property
    def step(self) -> Step | None:
        """The period each accumulated set covers; ``None`` for NONE (keep steps) and ALL (whole window)."""
        if self in (Accumulate.NONE, Accumulate.ALL):
            return None
        if self is Accumulate.WEEKNOW:
            return CalendarStep.WEEK
        return _NAMED_STEPS[self.value]


_ACCUMULATE: dict[str, Accumulate] = {
    "": Accumulate.NONE,
    "false": Accumulate.NONE,
    "f": Accumulate.NONE,
    "0": Accumulate.NONE,
    "none": Accumulate.NONE,
    "true": Accumulate.ALL,
    "t": Accumulate.ALL,
    "1": Accumulate.ALL,
    "all": Accumulate.ALL,
    "hour": Accumulate.HOUR,
    "day": Accumulate.DAY,
    "week": Accumulate.WEEK,
    "weeknow": Accumulate.WEEKNOW,
    "month": Accumulate.MONTH,
    "quarter": Accumulate.QUARTER,
}


def parse_accumulate(text: str | None, parameter: str = "accumulate") -> Accumulate:
    """OpenCost's ``accumulate``: true/false (also t/f/1/0), all, hour, day, week, weeknow, month, quarter."""
    cleaned = (text or "").strip().lower()
    try:
        return _ACCUMULATE[cleaned]
    except KeyError:
        raise InvalidWindow(
            f"invalid value {(text or '')[:40]!r}; "
            "expected true, false, all, hour, day, week, weeknow, month or quarter",
            parameter,
        ) from None
