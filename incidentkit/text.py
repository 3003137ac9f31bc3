"""The kit's findings as plain text: what ``incidentkit parse --summary`` and
``incidentkit diagnose`` print, for a terminal or a notebook cell."""

from __future__ import annotations

import pandas as pd

from . import schema
from .diagnose import Diagnosis


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


def describe(diagnosis: Diagnosis, df: pd.DataFrame | None) -> str:
    """Return the text of ``incidentkit diagnose``: cause, ranked hypotheses, what each
    input saw (for several), evidence lines (the rows of ``df`` it cites)."""
    out = [
        f"cause: {diagnosis.cause}",
        f"confidence: {diagnosis.confidence}",
        diagnosis.summary,
    ]
    out.extend(f"caveat: {c}" for c in diagnosis.caveats)
    if diagnosis.facts.get("retries"):
        out.append(f"retries: {diagnosis.facts['retries']}")
    if diagnosis.hypotheses:
        out.append("hypotheses:")
        width = max(len(h.cause) for h in diagnosis.hypotheses)
        for i, h in enumerate(diagnosis.hypotheses, 1):
            out.append(f"  {i}. {h.cause:<{width}}  {h.confidence:<10} {h.sentence}")
    for judged in diagnosis.servers:
        if (judged.server, judged.port, judged.protocol) != (
            diagnosis.server,
            diagnosis.port,
            diagnosis.protocol,
        ):
            where = f"{judged.server} {judged.protocol or ''} port {judged.port}".replace("  ", " ")
            out.append(f"also judged: {where}: {judged.cause} ({judged.confidence})")
    sources = diagnosis.facts.get("sources") or []
    if sources:
        where = f"{diagnosis.server} {diagnosis.protocol or ''} port {diagnosis.port}"
        out.append(f"what each sensor (input) saw of {where.replace('  ', ' ')}:")
        for s in sources:
            out.append(
                f"  {s['source']}: {s['packets']} packets, {s['queries']} queries: "
                f"{s['answered']} answered, {s['errors']} error responses, "
                f"{s['icmp_errors']} ICMP errors, {s['no_response']} no response"
            )
    records = diagnosis.evidence_records
    if records and df is not None:
        rows = df.set_index("record").loc[records]
        out.append(f"evidence ({len(records)} records):")
        for _record, row in rows.iterrows():
            first, *rest = str(row["raw"]).split("\n")
            out.append(f"  {_where(row)}  {first}")
            out.extend(f"  {'':>12}  {more}" for more in rest)
    return "\n".join(out)


def _where(row: pd.Series) -> str:
    """'line     12' in a text log, 'frame    12' in a capture, else the record; after
    the input's name in a frame of several inputs."""
    known = schema.SOURCE in row.index and pd.notna(row[schema.SOURCE])
    source = f"{row[schema.SOURCE]} " if known else ""
    for column, word in (("line", "line"), ("packet", "frame")):
        if pd.notna(row[column]):
            return f"{source}{word:<5} {int(row[column]):>6}"
    return f"{source}{'record':<5} {row['record']:>6}"
