"""Reading the text tcpdump prints into the schema's DataFrame.

The reader works on whole columns: the log's bytes become an Arrow string array of
lines without copying, each pattern of :mod:`._grammar` runs once over the column
(RE2, in C++), and the results are assembled into the frame. No Python object is made
per line, which keeps a million-line log close to the cost of reading it.

Steps, one module each: bytes (:mod:`._source`) -> lines, their kinds (record start,
continuation, banner, blank, unparsed) and records, a record and its continuation lines
being one slice of the buffer (:mod:`._lines`) -> fields, from the C scanner
(:mod:`._cpath`) or the patterns of :mod:`._grammar` (:mod:`._fields`, on the helpers of
:mod:`._values`) -> times (:mod:`._times`) -> the frame (:mod:`._columns`,
:mod:`._assembly`).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from ..errors import InputError
from ..progress import NotebookBar, in_notebook, large
from ._assembly import Engine, _parse_bytes
from ._source import Source, check_text, encode_text, read_source
from ._times import DEFAULT_DATE, TimeFormat

__all__ = ["DEFAULT_DATE", "Engine", "TimeFormat", "parse_tcpdump", "read_tcpdump"]


# --------------------------------------------------------------------------- public API
def read_tcpdump(
    source: Source,
    *,
    date: str | _dt.date | pd.Timestamp | None = None,
    tz: str | None = None,
    strict: bool = False,
    time_format: TimeFormat = "auto",
    progress: Callable[[int, int], None] | bool | None = None,
    engine: Engine = "auto",
) -> pd.DataFrame:
    """Read a tcpdump text log into a DataFrame with the schema of :mod:`incidentkit.schema`.

    Parameters
    ----------
    source : path, open file
        A path (plain, or gzip-compressed: detected by content, not by name) or an open
        text or binary file.
    date : str, date or Timestamp, optional
        The day of the first packet, for logs that print only the time of day (tcpdump's
        default) or deltas (``-ttt``, ``-ttttt``). Without it such logs are dated
        1970-01-01 and ``df.attrs["capture"]["date_assumed"]`` is True; the reader never
        uses today's date. A time that runs backwards by more than twelve hours is taken
        as the next day (a capture past midnight).
    tz : str, optional
        The time zone the log's times are in (tcpdump prints local time). When given,
        ``time`` is time-zone aware; ``-tt`` epoch times are converted from UTC to it.
        Without it times are naive, as printed (``-tt`` as UTC).
    strict : bool, default False
        Raise :class:`~incidentkit.ParseError` at the first line that is no record,
        instead of keeping it as an ``unparsed`` row.
    time_format : {"auto", "-ttt", "-ttttt"}
        Delta timestamps look the same for ``-ttt`` (since the previous packet) and
        ``-ttttt`` (since the first). "auto" reads them as ``-ttttt`` when they never run
        backwards, or only as a capture's own reordering does (at most one step in a
        hundred, each under a millisecond: packets from several queues of a card), and
        as ``-ttt`` otherwise or when one carries a minus sign.
    progress : callable or bool, optional
        Called as ``progress(bytes_read, file_size)`` while a path is read. By default
        (None) a file over 4 MiB read in a Jupyter kernel shows a progress bar in the
        notebook; False shows none.
    engine : {"auto", "c", "python"}
        "c" reads the common record layouts in one compiled pass and hands every other
        line to the patterns of the pure-Python path; "python" uses the patterns alone.
        Both give the same frame. "auto" takes "c" when it is built (it needs a C
        compiler at install time), else "python".

    Returns
    -------
    pandas.DataFrame
        One row per packet and one ``unparsed`` row per line that is no record; banner,
        summary and blank lines go to ``df.attrs["capture"]``. A number too large for its
        column (``ICMP type-#300``, a port of 99999), a time past what datetime64[ns]
        holds (after 2262-04-11) or a date no calendar has leaves that value empty (NaT
        for a time), never another value: the record is kept, its ``error`` says why,
        and a :class:`~incidentkit.ParseWarning` counts such records.

    Raises
    ------
    InputError
        For a missing file, a pcap/pcapng capture, or other binary data.

    Examples
    --------
    >>> df = read_tcpdump("data/yummyrecipesforme_dns_icmp.log", date="2026-11-24")
    >>> print(df[["time", "proto", "src", "dst", "dport", "icmp_reason"]].head(2).to_string())
                            time proto            src            dst  dport       icmp_reason
    0 2026-11-24 13:24:32.192571   udp  192.51.100.15    203.0.113.2     53              <NA>
    1 2026-11-24 13:24:36.098564  icmp    203.0.113.2  192.51.100.15   <NA>  port unreachable
    """
    bar = None
    if progress is None and large(source) and in_notebook():
        bar = NotebookBar(Path(str(source)).name)
    report = bar if bar is not None else (progress if callable(progress) else None)
    # the bytes are read inside: no caller's frame holds them while the frame is made
    df = _parse_bytes(
        lambda: read_source(source, report),
        date=date,
        tz=tz,
        strict=strict,
        time_format=time_format,
        engine=engine,
    )
    if bar is not None:
        bar.done(len(df))
    return df


def parse_tcpdump(
    text: str | bytes,
    *,
    date: str | _dt.date | pd.Timestamp | None = None,
    tz: str | None = None,
    strict: bool = False,
    time_format: TimeFormat = "auto",
    engine: Engine = "auto",
) -> pd.DataFrame:
    """Parse tcpdump output given as a string; see :func:`read_tcpdump` for the options.

    Examples
    --------
    >>> df = parse_tcpdump("13:24:32.192571 IP 192.51.100.15.52444 > "
    ...                    "203.0.113.2.domain: 35084+ A? yummyrecipesforme.com. (24)")
    >>> row = df.iloc[0]
    >>> row["proto"], int(row["dport"]), row["dns_qname"]
    ('udp', 53, 'yummyrecipesforme.com')
    """
    if isinstance(text, str):
        data = bytearray(encode_text(text))
    elif isinstance(text, (bytes, bytearray)):
        data = bytearray(text)  # the reader's own copy: it makes the raw column in it
    else:
        raise InputError(f"parse_tcpdump takes str or bytes, not {type(text).__name__}")
    check_text(data, "<text>")
    return _parse_bytes(
        lambda: (data, "<text>"),
        date=date,
        tz=tz,
        strict=strict,
        time_format=time_format,
        engine=engine,
    )
