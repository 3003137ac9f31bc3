"""Command line: thin; parses arguments and calls the package's functions."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from . import schema
from .diagnose import diagnose
from .errors import IncidentkitError, ParseWarning
from .parse import iter_tcpdump, read
from .parse._pcapfile import capture_kind
from .progress import large as _big
from .text import describe, summarize


class _ProgressBar:
    """A one-line progress bar on stderr: bytes read, then the parse."""

    def __init__(self, name: str, width: int = 30) -> None:
        self.name, self.width, self.shown = name, width, -1

    def __call__(self, done: int, total: int) -> None:
        share = done / total if total else 1.0
        percent = int(share * 100)
        if percent == self.shown:
            return
        self.shown = percent
        filled = int(share * self.width)
        bar = "#" * filled + "-" * (self.width - filled)
        sys.stderr.write(f"\rincidentkit: reading {self.name} [{bar}] {percent:3d}%")
        if percent == 100:
            sys.stderr.write(f"\nincidentkit: parsing {self.name} ...")
        sys.stderr.flush()

    def done(self, rows: int) -> None:
        sys.stderr.write(f" {rows} rows\n")
        sys.stderr.flush()


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


def _streams(args: argparse.Namespace) -> bool:
    """Whether ``parse -`` writes rows as they come (csv and jsonl of a text log, to a
    stream or file); a capture piped in (``tcpdump -w - | incidentkit parse -``) is read
    whole."""
    if args.format not in ("csv", "jsonl") or args.summary or args.strict:
        return False
    stdin: Any = sys.stdin.buffer  # (a BufferedReader: peek looks without reading)
    return capture_kind(stdin.peek(12)[:12]) is None


def _stream(args: argparse.Namespace) -> None:
    """``tcpdump -l ... | incidentkit parse -``: each run of complete records is written
    (and flushed) as soon as it is read."""
    out: Any = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout  # noqa: SIM115
    try:
        first = True
        for df in iter_tcpdump("-", date=args.date, tz=args.tz):
            if args.format == "csv":
                df.to_csv(out, index=False, header=first)
            else:
                df.to_json(out, orient="records", lines=True, date_format="iso", date_unit="ns")
                out.write("\n")
            out.flush()
            first = False
        if first and args.format == "csv":  # (no record at all: the header alone)
            schema.empty_frame().to_csv(out, index=False)
    finally:
        if out is not sys.stdout:
            out.close()


def _report_epilog() -> str:
    """The report notebook's parameters, for ``incidentkit report --help``."""
    from .report import notebook_parameters

    lines = ["parameters of the report notebook (give each as -p NAME VALUE):"]
    for name, p in sorted(notebook_parameters().items()):
        if name in ("log_path", "more_logs"):  # (the LOG arguments)
            continue
        lines.append(f"  {name} ({p['type']}, default {p['default']})")
        if p["help"]:
            lines.append(f"      {p['help']}")
    return "\n".join(lines)


def _parser(report_epilog: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="incidentkit",
        description="Investigate network incidents from tcpdump logs and capture files.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("parse", help="read a tcpdump text log or a capture into a table")
    p.add_argument(
        "log",
        nargs="+",
        help="tcpdump text logs or pcap/pcapng captures (plain or .gz), read as one table "
        "with a 'source' column; - reads standard input (a text log as it comes)",
    )
    p.add_argument("--format", choices=["csv", "jsonl", "parquet"], default="csv")
    p.add_argument("-o", "--output", help="write here instead of standard output")
    p.add_argument("--summary", action="store_true", help="print counts, time span, unparsed")
    p.add_argument("--date", help="the capture's date, for text logs that print only times")
    p.add_argument("--tz", help="time zone of the log's times (a capture's are converted to it)")
    p.add_argument("--strict", action="store_true", help="fail at the first non-record line")
    _dask_option(p, "parquet of several inputs is one file per partition in the -o directory")
    d = sub.add_parser("diagnose", help="name the cause of a DNS failure, with its evidence")
    d.add_argument(
        "log",
        nargs="+",
        help="tcpdump text logs or pcap/pcapng captures (plain or .gz), judged together "
        "(a site's sensors, a capture rotated into files); - reads standard input",
    )
    d.add_argument("--json", action="store_true", help="print the diagnosis as JSON only")
    d.add_argument("--server", help="the DNS server to judge (default: every one queried)")
    d.add_argument("--domain", help="the site's name: judge only its queries")
    d.add_argument("--expected-address", help="the address the site should resolve to")
    d.add_argument("--dos-threshold", type=float, help="new queries per second that make a flood")
    d.add_argument("--date", help="the capture's date, for text logs that print only times")
    d.add_argument("--tz", help="time zone of the log's times (a capture's are converted to it)")
    _dask_option(d, "only the evidence of each part comes back")
    r = sub.add_parser(
        "report",
        help="write the follow-up report (HTML or PDF) for a log",
        epilog=report_epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    r.add_argument(
        "log",
        nargs="+",
        help="tcpdump text logs or pcap/pcapng captures (plain or .gz); several are judged "
        "together and the report says what each saw",
    )
    r.add_argument(
        "-o",
        "--output",
        default="report.html",
        help="the report to write: NAME.html, or NAME.pdf (printed by the system's Chromium)",
    )
    r.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="a parameter of the report notebook",
    )
    r.add_argument("--notebook", help="another report notebook")
    return parser


def _dask_option(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument(
        "--dask",
        metavar="SCHEDULER",
        help="compute on Dask: 'local' starts a cluster of one worker process per core on "
        f"127.0.0.1, or the address of a running scheduler (tcp://HOST:8786); {what}",
    )


@contextlib.contextmanager
def _dask_client(spec: str) -> Iterator[Any]:
    """A dask.distributed client for ``--dask``; a local cluster is stopped at the end."""
    try:
        from distributed import Client
    except ImportError:
        raise IncidentkitError("--dask needs Dask: pip install 'incidentkit[dask]'") from None
    if spec == "local":
        from .dask import local_cluster

        cluster = local_cluster()
        client = Client(cluster)
        try:
            yield client
        finally:
            client.close()
            cluster.close()
        return
    try:
        client = Client(spec, timeout=10)
    except (OSError, TimeoutError, ValueError) as exc:
        raise IncidentkitError(f"--dask {spec}: cannot reach the scheduler ({exc})") from None
    try:
        yield client
    finally:
        client.close()


def _several(args: argparse.Namespace) -> bool:
    """Whether the inputs go through incidentkit.dask: several of them as parquet (a
    dataset), or --dask."""
    if "-" in args.log and len(args.log) > 1:
        raise IncidentkitError("- (standard input) cannot be read with other inputs")
    return bool(args.dask) or (
        args.command == "parse" and args.format == "parquet" and len(args.log) > 1
    )


def _on_dask(args: argparse.Namespace) -> int:
    from . import dask as ikd

    context = _dask_client(args.dask) if args.dask else contextlib.nullcontext()
    kwargs = {"date": args.date, "tz": args.tz}
    with warnings.catch_warnings(record=True) as caught, context:
        warnings.simplefilter("always", ParseWarning)
        if args.command == "parse":
            if args.output is None or args.format != "parquet" or args.summary:
                raise IncidentkitError(
                    "with --dask, parse writes a parquet dataset: --format parquet -o DIR"
                )
            kwargs["strict"] = args.strict
            frame = ikd.read(args.log, **kwargs)
            frame.to_parquet(args.output, write_index=False, overwrite=True)
        else:
            result = ikd.diagnose(
                args.log,
                server=args.server,
                domain=args.domain,
                expected_address=args.expected_address,
                dos_threshold=args.dos_threshold,
                reader_kwargs=kwargs,
            )
            if args.json:
                print(json.dumps(result.to_dict(), indent=2))
            else:
                records = result.evidence_records
                rows = ikd.rows(args.log, records, **kwargs) if records else None
                print(describe(result, rows))
    for warning in caught:
        print(f"incidentkit: warning: {warning.message}", file=sys.stderr)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    wants_help = argv[:1] == ["report"] and bool({"-h", "--help"} & set(argv))
    args = _parser(_report_epilog() if wants_help else None).parse_args(argv)
    if args.command == "report":
        return _report(args)
    try:
        if _several(args):
            return _on_dask(args)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ParseWarning)
            strict = getattr(args, "strict", False)
            if args.log == ["-"] and args.command == "parse" and _streams(args):
                _stream(args)
                df = None
            elif len(args.log) > 1:
                df = read(args.log, date=args.date, tz=args.tz, strict=strict)
            else:
                source: str | Path = "-" if args.log == ["-"] else Path(args.log[0])
                big = isinstance(source, Path) and _big(source)
                bar = _ProgressBar(Path(source).name) if big else None
                df = read(source, date=args.date, tz=args.tz, strict=strict, progress=bar)
                if bar is not None:
                    bar.done(len(df))
        for warning in caught:
            print(f"incidentkit: warning: {warning.message}", file=sys.stderr)
        if df is None:
            return 0
        if args.command == "diagnose":
            result = diagnose(
                df,
                server=args.server,
                domain=args.domain,
                expected_address=args.expected_address,
                dos_threshold=args.dos_threshold,
            )
            if args.json:
                print(json.dumps(result.to_dict(), indent=2))
            else:
                print(describe(result, df))
        elif args.summary:
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


def _report(args: argparse.Namespace) -> int:
    from .report import run_report

    try:
        out = run_report(
            args.log if len(args.log) > 1 else args.log[0],
            args.output,
            parameters=dict(args.parameter),
            notebook=args.notebook,
        )
    except IncidentkitError as exc:
        print(f"incidentkit: error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {out} (and the executed notebook {out.with_suffix('.ipynb')})")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
