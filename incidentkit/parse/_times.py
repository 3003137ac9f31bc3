"""Timestamps: the header's groups into nanoseconds, dated, anchored and checked
against what datetime64[ns] holds."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any, Final, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ._values import _digits, _np

TimeFormat = Literal["auto", "-ttt", "-ttttt"]

_NS = 1_000_000_000
_DAY_NS = 86_400 * _NS
#: The date given to time-of-day logs when the caller names none (documented default).
DEFAULT_DATE = _dt.date(1970, 1, 1)


# --------------------------------------------------------------------------- times
@dataclass
class _TimeInfo:
    style: str = "none"
    date: str | None = None
    date_assumed: bool = False
    rollovers: int = 0


# Time kinds: how a record's timestamp reads (see _time_parts)
_T_NONE, _T_CLOCK, _T_DATED, _T_EPOCH, _T_DELTA, _T_BAD_DATE, _T_INVALID, _T_FRACTION = range(8)

#: NaT's value; in ``value`` of :func:`_time_parts` it marks a time past what int64 holds
_NAT: Final = np.iinfo(np.int64).min
_MAX_NS: Final = np.iinfo(np.int64).max
#: why a time is NaT, by its kind (the ``error`` of its record)
_TIME_SPAN: Final = (
    f"what datetime64[ns] holds ({pd.Timestamp.min:%Y-%m-%d %H:%M:%S} to "
    f"{pd.Timestamp.max:%Y-%m-%d %H:%M:%S})"
)
_TIME_REASONS: Final = {
    _T_EPOCH: f"time out of range: the -tt time is past {_TIME_SPAN}",
    _T_DATED: f"time out of range: the -tttt time is outside {_TIME_SPAN}",
    _T_CLOCK: f"time out of range: the time of day on its date is past {_TIME_SPAN}",
    _T_DELTA: f"time out of range: the time its delta comes to is outside {_TIME_SPAN}",
    _T_BAD_DATE: "time unknown: its date is no day of the calendar",
    # tcpdump prints a stamp whose fraction is not below a second with its digits and this
    # mark: "17:16:10.1000000 (invalid us)" (a pcap record's 1000000 microseconds)
    _T_INVALID: "time unknown: tcpdump marks the time stamp invalid (its fraction is not "
    "below a second)",
    _T_FRACTION: "time unknown: the time stamp's fraction has more than 9 digits",
}


def _time_parts(h: dict[str, pa.Array]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The header groups as (kind, value, negative) per row.

    ``value`` is nanoseconds: since midnight for clock times and deltas, since the epoch
    for dated and epoch times; ``_NAT`` for a time past what int64 nanoseconds hold
    (the C scanner gives such lines to the patterns: it only writes times that fit).
    """
    n = len(h["frac"])
    frac = pc.fill_null(h["frac"], "")
    efrac = pc.fill_null(h["efrac"], "")
    fr = pc.if_else(pc.greater(pc.utf8_length(frac), 0), frac, efrac)
    flen = np.asarray(pc.utf8_length(fr).to_numpy(zero_copy_only=False), dtype=np.int64)
    good_frac = (flen > 0) & (flen <= 9) & ~_np(pc.is_valid(h["invalid"]))
    fr_ok = pc.if_else(pa.array(good_frac), fr, pa.scalar(None, fr.type))
    fvals = np.asarray(pc.fill_null(pc.cast(fr_ok, pa.int64()), 0).to_numpy(), dtype=np.int64)
    frac_ns = fvals * (10 ** np.clip(9 - flen, 0, 9))
    whole_s = (_MAX_NS - frac_ns) // _NS  # the most whole seconds that fit with the fraction

    def ints(name: str) -> tuple[np.ndarray, np.ndarray]:
        """The numbers (up to 10**12, 0 where absent) and where a number is past that."""
        values, past = _digits(h[name], 10**12)
        return np.asarray(pc.fill_null(values, 0).to_numpy(), dtype=np.int64), past

    has_hms = _np(pc.is_valid(h["hh"])) & good_frac
    has_epoch = _np(pc.is_valid(h["epoch"])) & good_frac
    has_date = _np(pc.is_valid(h["date"])) & has_hms
    signed = _np(pc.is_valid(h["sign"])) & has_hms
    hh, hh_past = ints("hh")
    tod_s = hh * 3600 + ints("mm")[0] * 60 + ints("ss")[0]  # (at most 3.6e15: fits)
    tod_past = hh_past | (tod_s > whole_s)
    tod = np.where(tod_past, 0, tod_s) * _NS + frac_ns
    kind = np.full(n, _T_NONE, dtype=np.int8)
    value = np.zeros(n, dtype=np.int64)
    stamped = _np(pc.is_valid(h["hh"])) | _np(pc.is_valid(h["epoch"]))
    marked = _np(pc.is_valid(h["invalid"]))
    kind[stamped & marked] = _T_INVALID
    kind[stamped & ~marked & ~good_frac] = _T_FRACTION
    kind[has_epoch] = _T_EPOCH
    ep, ep_past = ints("epoch")
    ep_past |= ep > whole_s
    value[has_epoch] = np.where(ep_past, _NAT, np.where(ep_past, 0, ep) * _NS + frac_ns)[has_epoch]
    if has_date.any():
        idx = np.flatnonzero(has_date)
        days, real = _days(pc.filter(h["date"], pa.array(has_date)))
        kind[idx] = np.where(real, _T_DATED, _T_BAD_DATE)
        exact = days * _DAY_NS + tod[idx]  # (wraps where it is past int64: caught below)
        past = _wrapped(exact, days.astype(np.float64) * _DAY_NS + tod[idx]) | tod_past[idx]
        value[idx] = np.where(real & ~past, exact, _NAT)
    rest = has_hms & ~has_date
    kind[rest & ~signed] = _T_CLOCK
    kind[rest & signed] = _T_DELTA
    value[rest] = np.where(tod_past, _NAT, tod)[rest]
    negative = _np(pc.equal(pc.fill_null(h["sign"], ""), "-")) & rest
    return kind, value, negative


def _days(dates: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Days since 1970-01-01 of "YYYY-MM-DD" strings (proleptic Gregorian, any year), and
    whether each is a day of the calendar (the C scanner's days_from_civil)."""

    def part(start: int, stop: int) -> np.ndarray:
        piece = pc.utf8_slice_codeunits(dates, start, stop)
        return np.asarray(pc.cast(piece, pa.int64()).to_numpy(), dtype=np.int64)

    y, m, d = part(0, 4), part(5, 7), part(8, 10)
    leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
    month_days = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    real = (m >= 1) & (m <= 12) & (d >= 1)
    real &= d <= month_days[np.clip(m, 1, 12) - 1] + ((m == 2) & leap)
    y = y - (m <= 2)
    era = np.where(y >= 0, y, y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + np.where(m > 2, -3, 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468, real


def _wrapped(exact: np.ndarray, approx: np.ndarray) -> np.ndarray:
    """Where int64 arithmetic wrapped, or came to NaT's value: ``exact`` is the result in
    int64 (right modulo 2**64), ``approx`` the same sum in float64 (off by far less than
    2**63), so the number of times it wrapped is the rounded difference over 2**64."""
    wraps = np.rint((approx - exact.astype(np.float64)) / 2.0**64)
    return (wraps != 0) | (exact == _NAT)


#: how far a -ttttt log may run backwards, as a capture reorders packets of several queues
_JITTER_NS: Final = 1_000_000


def _since_first(deltas: np.ndarray) -> bool:
    """Whether delta times read as offsets from the first packet (-ttttt): they never
    run backwards, or only by reordering jitter, at most one step in a hundred."""
    steps = np.diff(deltas.astype(np.float64))  # (float: a step of two huge deltas fits)
    back = steps[steps < 0]
    return len(back) * 100 <= len(steps) and bool((back > -_JITTER_NS).all())


def _times(
    kind: np.ndarray,
    value: np.ndarray,
    negative: np.ndarray,
    date: str | _dt.date | pd.Timestamp | None,
    time_format: TimeFormat,
) -> tuple[np.ndarray, _TimeInfo, pa.Array | None]:
    """Packet times (datetime64[ns]) from :func:`_time_parts`, dated and anchored, and
    the reason for each time left NaT because it is out of range (None when there is
    none): a time that datetime64[ns] cannot hold is NaT, never another date."""
    n = len(kind)
    info = _TimeInfo()
    rest = (kind == _T_CLOCK) | (kind == _T_DELTA)
    every = bool(rest.all())  # (the usual case: no index, no copies)
    out = np.empty(0, dtype=np.int64) if every else np.full(n, _NAT, dtype=np.int64)  # NaT
    why = np.zeros(n, dtype=bool)
    epoch = kind == _T_EPOCH
    if epoch.any():
        out[epoch] = value[epoch]
        why |= epoch & (value == _NAT)
        info.style = "-tt"
    dated = (kind == _T_DATED) | (kind == _T_BAD_DATE)
    if dated.any():
        good = kind == _T_DATED
        out[good] = value[good]
        why |= dated & (value == _NAT)
        info.style = "-tttt"
    if rest.any():
        anchor_date = DEFAULT_DATE if date is None else pd.Timestamp(date).date()
        info.date = anchor_date.isoformat()
        info.date_assumed = date is None
        anchor = pd.Timestamp(anchor_date).value
        idx: Any = slice(None) if every else np.flatnonzero(rest)
        values = value[idx]
        past: np.ndarray | None
        if (kind[idx] == _T_DELTA).any():
            times, past, info.style = _from_deltas(values, negative[idx], anchor, time_format)
        else:
            times, past, info.rollovers = _from_clock(values, anchor)
            info.style = "default" if info.style == "none" else info.style
        if past is not None:
            times[past] = _NAT
            why[idx] |= past
        if every:
            out = times
        else:
            out[idx] = times
    why |= (kind == _T_INVALID) | (kind == _T_FRACTION)  # (NaT, as every kind not read)
    times = out.view("datetime64[ns]")
    if not why.any():
        return times, info, None
    reasons = np.full(n, None, dtype=object)
    for k, words in _TIME_REASONS.items():
        reasons[why & (kind == k)] = words
    return times, info, pa.array(reasons, pa.large_string())


def _from_clock(values: np.ndarray, anchor: int) -> tuple[np.ndarray, np.ndarray | None, int]:
    """Times of day on the anchor's date, a day later at each midnight passed; where a
    time is past what datetime64[ns] holds (None: nowhere); how many midnights."""
    bad = values == _NAT
    ok = values if not bad.any() else values[~bad]
    back = ok[1:] < ok[:-1] - _DAY_NS // 2  # past midnight
    rollovers = int(back.sum())
    if not bad.any() and len(ok) and anchor + int(ok.max()) + rollovers * _DAY_NS <= _MAX_NS:
        times = values + anchor  # (the usual case: nothing comes near 2262)
        if rollovers:
            times += np.concatenate([[0], np.cumsum(back)]) * _DAY_NS
        return times, None, rollovers
    days = np.concatenate([[0], np.cumsum(back)]).astype(np.int64)
    exact = ok + anchor + days * _DAY_NS
    approx = ok.astype(np.float64) + float(anchor) + days.astype(np.float64) * _DAY_NS
    times = np.full(len(values), _NAT, dtype=np.int64)
    times[~bad] = exact
    past = bad.copy()
    past[~bad] = _wrapped(exact, approx)
    return times, past, rollovers


def _from_deltas(
    values: np.ndarray, negative: np.ndarray, anchor: int, time_format: TimeFormat
) -> tuple[np.ndarray, np.ndarray, str]:
    """Times from -ttt (since the previous packet) or -ttttt (since the first) deltas;
    where a time is past what datetime64[ns] holds; the format read. A delta too large
    to hold makes its time, and with -ttt every later one, out of range."""
    bad = values == _NAT
    deltas = np.where(negative, -values, values)
    deltas[bad] = 0
    mode = time_format
    if mode == "auto":
        sure = deltas if not bad.any() else deltas[~bad]
        mode = "-ttt" if negative.any() or not _since_first(sure) else "-ttttt"
    if mode == "-ttt":
        exact = np.cumsum(deltas) + anchor
        approx = np.cumsum(deltas.astype(np.float64)) + float(anchor)
        past = _wrapped(exact, approx) | (np.cumsum(bad) > 0)
    else:
        exact = deltas + anchor
        past = _wrapped(exact, deltas.astype(np.float64) + float(anchor)) | bad
    return exact, past, mode
