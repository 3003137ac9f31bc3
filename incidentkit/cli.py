"""Command line: thin; parses arguments and calls the package's functions."""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from .errors import IncidentkitError, ParseWarning
from .parse import read_tcpdump


def summarize(df: pd.DataFrame) -> str:
    """Return the text of ``incidentkit parse --summary`` for a parsed log.

    Examples
    --------
    >>> from incidentkit import parse_tcpdump
    >>> print(summarize(parse_tcpdump("")))  # doctest: +NORMALIZE_WHITESPACE
    records: 0
    unparsed lines: 0
    """
    lines = [f"records: {int((df['proto'] != 'unparsed').sum())}"]
    counts = df["proto"].value_counts()
    for proto, count in counts.items():
        if count and proto != "unparsed":
            lines.append(f"  {proto}: {count}")
    times = df["time"].dropna()
    if len(times):
        span = times.max() - times.min()
        lines.append(f"time span: {times.min()} .. {times.max()} ({span.total_seconds():.6f} s)")
    unparsed = df.loc[df["proto"] == "unparsed", "line"]
    shown = ", ".join(str(n) for n in unparsed.head(10))
    more = "" if len(unparsed) <= 10 else ", ..."
    lines.append(f"unparsed lines: {len(unparsed)}" + (f" (lines {shown}{more})" if shown else ""))
    return "\n".join(lines)


def _write(df: pd.DataFrame, fmt: str, out: str | None) -> None:
    if fmt == "parquet":
        if out is None:
            raise IncidentkitError("--format parquet needs -o FILE (parquet is binary)")
        df.to_parquet(out, index=False)
        return
    target = out if out is not None else sys.stdout
    if fmt == "csv":
        df.to_csv(target, index=False)
    else:
        df.to_json(target, orient="records", lines=True, date_format="iso", date_unit="ns")
        if out is None:
            sys.stdout.write("\n")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="incidentkit", description="Investigate network incidents from tcpdump logs."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("parse", help="read a tcpdump text log into a table")
    p.add_argument("log", help="tcpdump text log (plain or .gz)")
    p.add_argument("--format", choices=["csv", "jsonl", "parquet"], default="csv")
    p.add_argument("-o", "--output", help="write here instead of standard output")
    p.add_argument("--summary", action="store_true", help="print counts, time span, unparsed")
    p.add_argument("--date", help="the capture's date, for logs that print only times")
    p.add_argument("--tz", help="time zone the log's times are in")
    p.add_argument("--strict", action="store_true", help="fail at the first non-record line")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = _parser().parse_args(argv)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ParseWarning)
            df = read_tcpdump(Path(args.log), date=args.date, tz=args.tz, strict=args.strict)
        for warning in caught:
            print(f"incidentkit: warning: {warning.message}", file=sys.stderr)
        if args.summary:
            print(summarize(df))
        else:
            _write(df, args.format, args.output)
    except BrokenPipeError:  # the reader of our output went away (| head)
        sys.stderr.close()
        return 0
    except (IncidentkitError, ValueError) as exc:
        print(f"incidentkit: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
