"""The report's prose, computed from the data: one method per step of the incident's
problem summary and solution summary.

Every value taken from a log (addresses, DNS names, raw lines: an attacker can choose a
DNS name) is HTML-escaped here, before it reaches the notebook, so the exported report
shows it as text and never runs it.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pandas as pd

from . import schema
from .diagnose import Diagnosis
from .icmp import icmp_errors
from .rules import CONFIDENCE, Hypothesis
from .services import service_name

#: What the engineers should do next, by cause. Filled in (escaped) from the diagnosis
#: (see ``Story._steps``): ``{server}``, ``{port}``, ``{proto}``, ``{ss}`` (ss's flag for
#: the protocol's sockets), ``{router}`` (what the path said of the server) and
#: ``{filters}`` (where the filter rules to review are).
NEXT_STEPS: Final[dict[str, tuple[str, ...]]] = {
    "service_down": (
        "On {server}, check that the DNS service runs and listens on {proto} port {port} "
        "(for example <code>ss -{ss}lpn | grep :{port}</code>); restart it and read its "
        "logs for why it stopped.",
        "Check {server}'s own firewall for a rule that rejects {proto} port {port}: a "
        "REJECT rule sends the same port unreachable error as a stopped service.",
        "Check which addresses the DNS service binds to: a server listening only on "
        "another address answers this one with the same error.",
        "Add monitoring that queries {server} from outside and alerts when it fails.",
    ),
    "host_down": (
        "Check that {server} is powered on and connected: {router}.",
        "Check the neighbour table (ARP, NDP) of the last hop before it (its router, or "
        "the client itself when the server is on the client's own segment) and the "
        "server's link; fail over to a secondary DNS server meanwhile.",
    ),
    "firewall": (
        "Review the filter rules on {filters} for {proto} port {port}; allow DNS from the "
        "clients that need it.",
        "Find out when and why the rule was added (change records), and test the lookup "
        "again once it is fixed.",
    ),
    "dos": (
        "Rate-limit DNS queries per source on {server} or in front of it, and block the "
        "flooding sources listed in the evidence.",
        "Ask the upstream provider for filtering if the flood exceeds the link, and keep "
        "a secondary DNS server in another network.",
    ),
    "misconfiguration": (
        "Check {server}'s configuration: zone data for the site, forwarders and access "
        "rules (who may query, which names it serves).",
        "Compare its answers with the authoritative servers of the site's zone after each change.",
    ),
    "slow_server": (
        "Find out why {server} answers so slowly: its load, its upstream forwarders (an "
        "unreachable forwarder makes every lookup wait), and its logs.",
        "Until it is fixed, point clients at a DNS server that answers in time, or raise "
        "their resolver timeout.",
    ),
    "none": (
        "DNS answered correctly in this capture: look further along the path (the web "
        "server's port, TLS, the application) and capture again while the error shows.",
    ),
    "inconclusive": (
        "Capture again on an affected client while reproducing the error, with the "
        "browser's DNS lookups included (tcpdump -nn -v port 53 or icmp).",
    ),
}

#: What each cause is called in a heading or a list, in plain words.
CAUSE_LABELS: Final[dict[str, str]] = {
    "service_down": "the DNS service is not running",
    "host_down": "the DNS server is down or cut off",
    "firewall": "a firewall blocks the DNS port",
    "dos": "a flood of traffic (denial of service)",
    "misconfiguration": "the DNS server is misconfigured",
    "slow_server": "the DNS server is too slow",
    "none": "DNS works",
}

#: A reported time further than this from the capture is a caveat, and the figures keep
#: to the capture's own window.
REPORT_GAP: Final = pd.Timedelta("1h")

_CSS: Final = """<style>
.ik-facts th, .ik-facts td { text-align: left !important; padding-right: 1em; }
.ik-table { border-collapse: collapse; font-size: 90%; }
.ik-table th, .ik-table td { border-bottom: 1px solid #ddd; padding: 2px 8px;
  text-align: left !important; vertical-align: top; }
.ik-summary { border: 2px solid #444; border-radius: 4px; padding: 6px 14px; margin: 10px 0;
  background: #fafafa; }
.ik-summary th { text-align: left !important; vertical-align: top; padding-right: 1em;
  white-space: nowrap; }
.ik-summary td { text-align: left !important; }
.ik-summary ul { margin: 0; padding-left: 1.2em; }
.ik-cause { font-size: 110%; }
.ik-certain, .ik-likely { color: #8b0000; } .ik-possible { color: #8a5a00; }
.ik-ruled-out { color: #555; }
.ik-lines { color: #555; font-size: 90%; }
.ik-evidence { white-space: pre-wrap; overflow-wrap: anywhere; font-size: 85%;
  font-family: ui-monospace, "DejaVu Sans Mono", monospace; background: #f6f6f6; padding: 8px; }
</style>"""

_CONFIDENCE_CLASS: Final = {c: c.replace(" ", "-") for c in CONFIDENCE}


def esc(value: Any) -> str:
    """HTML-escape any value (quotes included); missing values become an empty string."""
    if value is None or (not isinstance(value, (list, tuple, dict)) and pd.isna(value)):
        return ""
    return html.escape(str(value), quote=True)


def _numbers(df: pd.DataFrame, records: list[int]) -> tuple[str, list[int]]:
    """How the input numbers the records given ("line" in a text log, "frame" in a
    capture file, else "record"), and their numbers."""
    rows = df.loc[df["record"].isin(records)]
    for column, word in (("line", "line"), ("packet", "frame")):
        if column in rows and len(rows) and rows[column].notna().all():
            return word, sorted({int(n) for n in rows[column]})
    return "record", sorted({int(r) for r in records})


def _sources(df: pd.DataFrame) -> list[str] | None:
    """The inputs of a frame read from several (None for one input)."""
    if schema.SOURCE not in df.columns:
        return None
    codes = np.unique(df[schema.SOURCE].cat.codes.to_numpy())
    names = df[schema.SOURCE].cat.categories
    present = [str(names[c]) for c in codes if c >= 0]
    return present if len(present) > 1 else None


def _lines(df: pd.DataFrame, records: list[int], cap: int = 12) -> str:
    """'line 1' / 'lines 1, 2 and 5' (or frames) for the records given, the first
    ``cap`` of them with a count of the rest; '... of INPUT' per input for a frame of
    several inputs. The result is HTML: an input's name in it is escaped."""
    if not records:
        return ""
    if _sources(df) is not None:
        rows = df.loc[df["record"].isin(records)]
        cited = []
        for name, group in rows.groupby(schema.SOURCE, observed=True, sort=False):
            one = _lines(group.drop(columns=schema.SOURCE), group["record"].tolist(), cap)
            cited.append(f"{one} of {esc(name)}")  # (HTML: the name escaped)
        return "; ".join(cited)
    word, numbers = _numbers(df, records)
    shown = [str(n) for n in numbers[:cap]]
    if len(shown) == 1:
        return f"{word} {shown[0]}"
    if len(numbers) > cap:
        return f"{word}s {', '.join(shown)} and {len(numbers) - cap} more"
    return f"{word}s {', '.join(shown[:-1])} and {shown[-1]}"


def _dated(value: Any) -> bool:
    return value is not None and not pd.isna(value) and pd.Timestamp(value).year != 1970


def _time(value: Any) -> str:
    """A time for a table: full precision, the date when the log gave one."""
    if value is None or pd.isna(value):
        return "an unknown time"
    ts = pd.Timestamp(value)
    return ts.strftime("%Y-%m-%d %H:%M:%S.%f") if _dated(ts) else ts.strftime("%H:%M:%S.%f")


def _when(value: Any) -> str:
    """A time for prose: to the second, the date when the log gave one."""
    if value is None or pd.isna(value):
        return "an unknown time"
    ts = pd.Timestamp(value)
    return ts.strftime("%Y-%m-%d %H:%M:%S") if _dated(ts) else ts.strftime("%H:%M:%S")


def _duration(delta: pd.Timedelta) -> str:
    """'2 min 18 s', '12 s', 'under a second', '3 h 5 min'."""
    seconds = delta.total_seconds()
    if seconds < 1:
        return "under a second"
    whole = round(seconds)
    h, rest = divmod(whole, 3600)
    m, sec = divmod(rest, 60)
    if h:
        return f"{h} h {m} min" if m else f"{h} h"
    if m:
        return f"{m} min {sec} s" if sec else f"{m} min"
    return f"{sec} s"


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _first_three(counts: pd.Series) -> str:
    """The first three of ``counts``' index (busiest first), and how many more."""
    more = f" and {len(counts) - 3} more" if len(counts) > 3 else ""
    return ", ".join(str(c) for c in counts.index[:3]) + more


def _span(times: pd.Series) -> str:
    """ ", from FIRST to LAST (DURATION)" of the known ``times``; "" when none is known."""
    times = times.dropna()
    if not len(times):
        return ""
    first, last = times.min(), times.max()
    return f", from {_when(first)} to {_when(last)} ({_duration(last - first)})"


def _cap(text: str) -> str:
    """The text with its first letter upper case (the rest as it is)."""
    return text[:1].upper() + text[1:]


def _first_sentence(text: str) -> str:
    head, dot, _ = text.partition(". ")
    return head + "." if dot else text


def _explains(h: Hypothesis) -> str:
    """', explaining 75% of the failures' for a hypothesis still open ('' otherwise)."""
    if h.confidence == "ruled out" or h.cause == "none" or not h.explains:
        return ""
    return f", explaining {h.explains:.0%} of the failures"


class Section:
    """An HTML fragment that Jupyter displays, and nbconvert exports, as it is."""

    def __init__(self, body: str) -> None:
        self.body = body

    def _repr_html_(self) -> str:
        return self.body

    def __str__(self) -> str:
        return self.body


@dataclass
class Story:
    """The facts of one incident, told step by step.

    Nothing of any incident is assumed: what was reported, when and by whom appears only
    when it is given.

    Parameters
    ----------
    df : pandas.DataFrame
        The parsed capture.
    diagnosis : Diagnosis
        What :func:`incidentkit.diagnose` found.
    transactions : pandas.DataFrame
        :func:`incidentkit.dns_transactions` of ``df``.
    reported_at : str, optional
        When the incident was reported, as the analyst was told ("1:24 PM").
    symptom : str, optional
        What users saw ("destination port unreachable").
    site : str, optional
        The site users could not reach.
    capture : str, optional
        The capture's file name, for the report's facts.
    analyst, organisation : str, optional
        Who writes the report, and for whom.
    """

    df: pd.DataFrame
    diagnosis: Diagnosis
    transactions: pd.DataFrame
    reported_at: str | None = None
    symptom: str = ""
    site: str | None = None
    capture: str = ""
    analyst: str = ""
    organisation: str = ""
    errors: pd.DataFrame = field(init=False)

    def __post_init__(self) -> None:
        self.errors = icmp_errors(self.df)

    # -------------------------------------------------------------- helpers
    @property
    def _server_tx(self) -> pd.DataFrame:
        tx = self.transactions
        if self.diagnosis.server is not None:
            tx = tx.loc[tx["server"] == self.diagnosis.server]
        return tx

    @property
    def _failing(self) -> pd.DataFrame:
        tx = self._server_tx
        return tx.loc[tx["outcome"] != "answered"]

    def _p(self, *sentences: str) -> Section:
        return Section("".join(f"<p>{s}</p>" for s in sentences if s))

    @property
    def _span(self) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        times = self.df["time"].dropna()
        return (times.min(), times.max()) if len(times) else None

    @property
    def reported_time(self) -> pd.Timestamp | None:
        """When the incident was reported, on the capture's time axis (None when not
        given or not a time)."""
        from .report import reported_time

        return reported_time(self.df, self.reported_at)

    @property
    def report_gap(self) -> pd.Timedelta | None:
        """How far the reported time lies outside the capture (0 inside it)."""
        when, span = self.reported_time, self._span
        if when is None or span is None:
            return None
        try:
            before, after = span[0] - when, when - span[1]
        except TypeError:  # one has a time zone, the other not
            return None
        return max(before, after, pd.Timedelta(0))

    @property
    def reported_on_axis(self) -> pd.Timestamp | None:
        """The reported time, for a figure: None when it is far from the capture, so
        the figure keeps to the capture's own window."""
        gap = self.report_gap
        return self.reported_time if gap is not None and gap <= REPORT_GAP else None

    def _gap_caveat(self) -> str:
        gap = self.report_gap
        if gap is None or gap <= REPORT_GAP:
            return ""
        when = self.reported_time
        span = self._span
        assert when is not None and span is not None
        side = "before the capture starts" if when < span[0] else "after the capture ends"
        return (
            f"The incident was reported {_duration(gap)} {side}: the capture may not show "
            "what users saw then."
        )

    def _date(self) -> str:
        span = self._span
        if span is None or not _dated(span[0]):
            return "date unknown"
        first, last = span[0].date(), span[1].date()
        return str(first) if first == last else f"{first} to {last}"

    def _subject(self) -> str:
        if self.site:
            return self.site
        d = self.diagnosis
        return f"DNS on {d.server}" if d.server else "a packet capture"

    # -------------------------------------------------------------- first screen
    def title(self) -> str:
        """The report's title: the site (or the server) and the date."""
        return f"Follow-up report: {self._subject()}, {self._date()}"

    def front(self) -> Section:
        """The first screen: the title, the facts given, and the summary box."""
        return Section(f"{_CSS}<h1>{esc(self.title())}</h1>{self._facts()}{self.summary().body}")

    def _facts(self) -> str:
        span = self._span
        packets = (
            f"{len(self.df)} ({_when(span[0])} to {_when(span[1])}, {_duration(span[1] - span[0])})"
            if span is not None
            else f"{len(self.df)} (no timestamps)"
        )
        facts = [
            ("Site", self.site),
            ("Reported", self.reported_at),
            ("What users saw", self.symptom),
            ("Capture", self.capture),
            ("Date", self._date()),
            ("Packets", packets),
            ("Analyst", self.analyst),
            ("Organisation", self.organisation),
        ]
        rows = "".join(f"<tr><th>{k}</th><td>{esc(v)}</td></tr>" for k, v in facts if v)
        return f"<table class='ik-facts'>{rows}</table>"

    def _what_failed(self) -> str:
        d = self.diagnosis
        if d.server is None or not int(d.facts.get("attempts", 0)):
            return "The capture holds no DNS query: there is nothing to judge."
        queries, failed = int(d.facts.get("queries", 0)), int(d.facts.get("failed", 0))
        where = f"the DNS server {d.server} ({(d.protocol or '').upper()} port {d.port})"
        names = list(d.facts.get("names", []))
        lookups = (
            f"DNS lookups of {self.site}"
            if self.site
            else (f"DNS lookups of {names[0]}" if len(names) == 1 else "DNS lookups")
        )
        answered = f"{queries - failed} of {_plural(queries, 'query', 'queries')}"
        if d.cause == "none":
            lost = f"; {_plural(failed, 'query', 'queries')} failed" if failed else ""
            return f"Nothing failed in DNS: {where} answered {answered}{lost}."
        if failed == 0:
            return f"{lookups} sent to {where} met {d.failure}; it answered {answered}."
        return f"{lookups} sent to {where} failed: {d.failure}."

    def _impact(self) -> str:
        d = self.diagnosis
        failed, queries = int(d.facts.get("failed", 0)), int(d.facts.get("queries", 0))
        if self._only_connections():
            return self._connections_impact(failed, int(d.facts.get("attempts", 0)))
        tx = self._failing if len(self._failing) else self._server_tx
        if tx.empty:
            return ""
        clients = tx["client"].value_counts()
        count = (
            f"{failed} of {_plural(queries, 'DNS query', 'DNS queries')} to {d.server} failed"
            if failed
            else f"{_plural(queries, 'DNS query', 'DNS queries')} to {d.server}, none failed"
        )
        who = f"{_plural(len(clients), 'client')} ({_first_three(clients)})"
        return f"{count}, from {who}{_span(tx['time'])}."

    def _only_connections(self) -> bool:
        """Whether every attempt to the server judged was a TCP connection that carried no
        query (blocked or reset before one could be sent)."""
        facts = self.diagnosis.facts
        return not int(facts.get("queries", 0)) and bool(int(facts.get("attempts", 0)))

    def _syns(self) -> pd.DataFrame:
        """The rows that open a TCP connection (SYN) to the server judged, on its port."""
        d, df = self.diagnosis, self.df
        opened = (
            (df["proto"] == "tcp")
            & df["dst"].eq(str(d.server))
            & df["dport"].eq(int(d.port or 0))
            & df["tcp_flags"].eq("S")
        )
        return df[opened.fillna(False).astype(bool)]

    def _connections_impact(self, failed: int, attempts: int) -> str:
        """The impact where every attempt was a TCP connection that carried no query: the
        connections opened (SYN) to the server's port, their clients and their times."""
        d = self.diagnosis
        syn = self._syns()
        clients = syn["src"].value_counts()
        who = (
            f", from {_plural(len(clients), 'client')} ({_first_three(clients)})"
            if len(clients)
            else ""
        )
        return (
            f"{failed} of {_plural(attempts, 'TCP connection attempt')} to {d.server} port "
            f"{d.port} failed before a DNS query could be sent{who}{_span(syn['time'])}."
        )

    def summary(self) -> Section:
        """The conclusion first: what failed, its impact, the cause and how sure, what
        is ruled out, and the next step."""
        d = self.diagnosis
        rows: list[tuple[str, str]] = [("What failed", esc(self._what_failed()))]
        impact = self._impact()
        if impact:
            rows.append(("Impact", esc(impact)))
        if d.cause == "inconclusive" and int(d.facts.get("attempts", 0)):
            rows.append(
                (
                    "Cause",
                    "<b>Not determined</b>: no cause of the list fits what this capture "
                    "shows; the hypotheses below say what each one lacks.",
                )
            )
        if d.cause != "inconclusive":
            words = _cap(d.cause_words)
            rows.append(("Cause", f"<b>{esc(words)}</b>."))
            rows.append(("Confidence", esc(_cap(CONFIDENCE[d.confidence])) + "."))
            ruled = [h for h in d.hypotheses if h.confidence == "ruled out" and h.cause != d.cause]
            if ruled:
                items = "".join(
                    f"<li>{esc(_cap(CAUSE_LABELS[h.cause]))}: "
                    f"{esc(_first_sentence(h.sentence))}</li>"
                    for h in ruled
                )
                rows.append(("Ruled out", f"<ul>{items}</ul>"))
        caveats = [*d.caveats, self._gap_caveat()]
        if any(caveats):
            rows.append(
                ("Caveats", "<ul>" + "".join(f"<li>{esc(c)}</li>" for c in caveats if c) + "</ul>")
            )
        rows.append(("Next step", self._steps()[0]))
        body = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
        return Section(f"<div class='ik-summary'><table>{body}</table></div>")

    # -------------------------------------------------------------- tables
    def _input_column(self) -> tuple[str, Callable[[Any], str]]:
        """The heading of the column that says where a record is in the input, and what
        it says for a record: its line or frame number; for a frame of several inputs,
        the input's name with it."""
        df = self.df
        if _sources(df) is None:
            column, heading = ("line", "line") if df["line"].notna().any() else ("packet", "frame")
            number = dict(zip(df["record"], df[column], strict=True))
            return heading, lambda r: "" if pd.isna(number.get(r)) else str(number[r])
        at = pd.Index(df["record"])

        def where(record: Any) -> str:
            if record not in at:
                return ""
            row = df.iloc[at.get_loc(record)]
            for column, word in (("line", "line"), ("packet", "frame")):
                if pd.notna(row[column]):
                    return f"{row[schema.SOURCE]} {word} {int(row[column])}"
            return f"{row[schema.SOURCE]} record {record}"

        return "input", where

    def transactions_table(self, max_rows: int = 20) -> Section:
        """The DNS queries with their outcomes (the first ``max_rows``)."""
        tx = self.transactions
        if tx.empty:
            return self._p("No DNS query in the capture.")
        heading, where = self._input_column()
        head = (
            f"<tr><th>{heading}</th><th>sent</th><th>client</th><th>server</th><th>name</th>"
            "<th>type</th><th>attempt</th><th>outcome</th><th>detail</th>"
            "<th>latency (s)</th></tr>"
        )
        rows = []
        t: Any
        for t in tx.head(max_rows).itertuples(index=False):
            detail = (
                t.icmp_reason
                if t.outcome == "icmp_error"
                else (t.rcode if t.outcome == "error" else ", ".join(t.addresses))
            )
            latency = "" if pd.isna(t.latency) else f"{t.latency.total_seconds():.6f}"
            rows.append(
                f"<tr><td>{esc(where(t.query_record))}</td><td>{esc(_time(t.time))}</td>"
                f"<td>{esc(t.client)}</td><td>{esc(t.server)}</td><td>{esc(t.qname)}"
                f"</td><td>{esc(t.qtype)}</td><td>{esc(t.attempt)}</td>"
                f"<td>{esc(str(t.outcome).replace('_', ' '))}</td><td>{esc(detail)}</td>"
                f"<td>{latency}</td></tr>"
            )
        note = f"<p>The first {max_rows} of {len(tx)} queries.</p>" if len(tx) > max_rows else ""
        return Section(f"{note}<table class='ik-table'>{head}{''.join(rows)}</table>")

    def top_talkers(self, max_rows: int = 10) -> Section:
        """The clients that sent the most queries to the server judged, with what came
        of them (nothing when one client asked everything: the prose names it)."""
        tx = self._server_tx
        clients = tx["client"].value_counts()
        if len(clients) < 2:
            return Section("")
        failed = tx.loc[tx["outcome"] != "answered", "client"].value_counts()
        first = tx.groupby("client", observed=True)["time"].min()
        rows = "".join(
            f"<tr><td>{esc(c)}</td><td>{int(n)}</td><td>{int(failed.get(c, 0))}</td>"
            f"<td>{esc(_time(first.get(c)))}</td></tr>"
            for c, n in clients.head(max_rows).items()
        )
        more = (
            f"<p>The {max_rows} busiest of {len(clients)} clients.</p>"
            if len(clients) > max_rows
            else ""
        )
        head = "<tr><th>client</th><th>queries</th><th>failed</th><th>first query</th></tr>"
        return Section(f"{more}<table class='ik-table'>{head}{rows}</table>")

    # -------------------------------------------------------------- part 1
    def reported(self) -> Section:
        """When the incident was reported, and when the capture first shows it."""
        d, tx = self.diagnosis, self.transactions
        reported = (
            f"The incident was reported at <b>{esc(self.reported_at)}</b>."
            if self.reported_at
            else "The time the incident was reported was not given."
        )
        span = self._span
        window = (
            f"The capture runs from {esc(_when(span[0]))} to {esc(_when(span[1]))} "
            f"({esc(_duration(span[1] - span[0]))})."
            if span is not None
            else "The capture has no timestamps."
        )
        if d.cause == "inconclusive" or tx.empty:
            return self._p(reported, window, esc(self._gap_caveat()))
        first = tx.iloc[0]
        failing = self._failing
        seen = (
            f"Its first DNS query was sent at <b>{esc(_when(first['time']))}</b> "
            f"({_lines(self.df, [int(first['query_record'])])})"
        )
        if len(failing):
            f0 = failing.iloc[0]
            same = int(f0["query_record"]) == int(first["query_record"])
            seen += (
                ", and it failed."
                if same
                else (
                    f"; the first that failed was sent at <b>{esc(_when(f0['time']))}</b> "
                    f"({_lines(self.df, [int(f0['query_record'])])})."
                )
            )
        else:
            seen += "."
        return self._p(reported, window + " " + seen, esc(self._gap_caveat()))

    def symptom_seen(self) -> Section:
        """What users saw, and what in the capture matches it."""
        d = self.diagnosis
        if self.symptom:
            said = f"Users reported the error <b>&ldquo;{esc(self.symptom)}&rdquo;</b>" + (
                f" when opening <b>{esc(self.site)}</b>." if self.site else "."
            )
        else:
            said = "What users saw was not given."
        if len(self.errors):
            top = self.errors["reason"].value_counts()
            parts = ", ".join(f"{int(n)} &times; <i>{esc(r)}</i>" for r, n in top.items())
            match = (
                f"The capture holds {_plural(len(self.errors), 'ICMP error')}: {parts} "
                f"({_lines(self.df, self.errors['record'].astype(int).tolist())}). "
                + self._errors_meet_lookups()
            )
        elif d.cause == "inconclusive":
            match = "The capture holds no DNS traffic to compare with."
        else:
            match = f"The capture holds no ICMP error; the DNS queries ended as: {esc(d.failure)}."
        return self._p(said, match)

    def _errors_meet_lookups(self) -> str:
        """Whether the capture's ICMP errors are what a browser's lookups met: errors sent
        to the clients that asked (destination unreachable, or another kind), or errors
        that answer no lookup (a client refusing its answers sends them itself)."""
        e = self.errors
        clients = set(self._server_tx["client"].dropna()) if len(self._server_tx) else set()
        to_clients = e[e["to"].isin(clients)] if clients else e.iloc[:0]
        unreachable = (to_clients["type"] == 3) & (to_clients["family"] == "icmp") | (
            to_clients["type"] == 1
        ) & (to_clients["family"] == "icmp6")
        if unreachable.fillna(False).astype(bool).any():
            return (
                "A browser whose lookups draw an ICMP destination-unreachable error reports "
                "that it cannot reach the destination."
            )
        if len(to_clients):
            if len(to_clients) == 1:
                return "It answers a client's own query, which got no DNS answer."
            return "They answer the clients' own queries, which got no DNS answer."
        if not clients:
            return ""
        senders = ", ".join(esc(s) for s in pd.unique(e["sender"].dropna())[:3])
        if len(e) == 1:
            return f"It answers no client's lookup: {senders} sent it, about a packet it received."
        return (
            f"None of them answers a client's lookup: {senders} sent them, about packets "
            "received there."
        )

    def protocol(self) -> Section:
        """Which protocol carried the failing traffic."""
        d = self.diagnosis
        if d.protocol is None:
            return self._p(self._nothing_sent("protocol"))
        if self._only_connections():
            syn = self._syns()
            who = esc(_first_three(syn["src"].value_counts()))
            attempts = int(d.facts.get("attempts", 0))
            return self._p(
                f"The traffic that failed is <b>{esc(d.service)}</b> carried over "
                f"<b>TCP</b>: {_plural(attempts, 'connection attempt')} from {who} to "
                f"<b>{esc(d.server)}</b> port {esc(d.port)} "
                f"({_lines(self.df, syn['record'].astype(int).tolist())}) never carried a "
                "query."
            )
        failing = self._failing
        subject = failing if len(failing) else self._server_tx
        records = subject["query_record"].astype(int).tolist()
        clients = subject["client"].value_counts()
        who = (
            ", ".join(esc(c) for c in clients.index)
            if len(clients) <= 3
            else f"{len(clients)} clients (the busiest are in the table below)"
        )
        lead = "The traffic that failed is" if len(failing) else "No query failed; the traffic is"
        # (the transports of these queries: a server asked over UDP and TCP is both)
        seen = [str(p).upper() for p in pd.unique(subject["proto"].dropna())] or [d.protocol]
        over = " and ".join(f"<b>{esc(p.upper())}</b>" for p in seen)
        return self._p(
            f"{lead} <b>{esc(d.service)}</b> carried over "
            f"{over}: {_plural(len(subject), 'query', 'queries')} "
            f"from {who} to <b>{esc(d.server)}</b> port {esc(d.port)} "
            f"({_lines(self.df, records)})."
        )

    def _nothing_sent(self, what: str) -> str:
        """Why there is no protocol or port to name: no DNS traffic at all, or none that
        could be sent (the server's link-layer address was never found)."""
        d = self.diagnosis
        if d.server is None:
            return f"No DNS traffic: no {what} to name."
        return (
            f"No packet reached <b>{esc(d.server)}</b>: the requests for its link-layer "
            "address (ARP, neighbour discovery) went unanswered, so the queries to it could "
            f"not be sent, and no {what} shows in the capture."
        )

    def icmp(self, max_rows: int = 20) -> Section:
        """The ICMP error messages, in words (the first ``max_rows``)."""
        if self.errors.empty:
            return self._p("There is no ICMP error in the capture.")
        heading, where = self._input_column()
        rows = []
        e: Any
        for e in self.errors.head(max_rows).itertuples(index=False):
            fd = e.from_destination
            who = (
                ""
                if pd.isna(fd)
                else ("the destination itself" if bool(fd) else "a hop on the path")
            )
            quoted = " ".join(
                x
                for x in (
                    esc(e.orig_proto),
                    esc(e.orig_dst),
                    f"port {esc(e.orig_dport)}" if pd.notna(e.orig_dport) else "",
                )
                if x
            )
            rows.append(
                f"<tr><td>{esc(where(e.record))}</td><td>{esc(_time(e.time))}</td>"
                f"<td>{esc(e.sender)}</td><td>{esc(who)}</td><td>{esc(e.type)}/"
                f"{esc(e.code)}</td><td>{esc(e.reason)}</td><td>{quoted}</td>"
                f"<td>{esc(e.meaning)}</td></tr>"
            )
        head = (
            f"<tr><th>{heading}</th><th>time</th><th>sender</th><th>sender is</th>"
            "<th>type/code</th><th>reason</th><th>about</th><th>meaning</th></tr>"
        )
        note = (
            f"<p>The first {max_rows} of {len(self.errors)} ICMP errors.</p>"
            if len(self.errors) > max_rows
            else ""
        )
        return Section(f"{note}<table class='ik-table'>{head}{''.join(rows)}</table>")

    def port(self) -> Section:
        """The port and the service it belongs to."""
        d = self.diagnosis
        if d.port is None:
            return self._p(self._nothing_sent("port"))
        quoted = self.errors.loc[self.errors["orig_dport"] == d.port]
        where = _lines(self.df, quoted["record"].astype(int).tolist())
        tail = (
            f" The ICMP errors name the same port: they answer datagrams to "
            f"{esc(d.protocol)} port {esc(d.port)} ({where})."
            if len(quoted)
            else ""
        )
        service = esc(service_name(int(d.port)))
        return self._p(
            f"Port <b>{esc(d.port)}</b> is the well-known port of <b>{service}</b>"
            f" (shown as <code>.domain</code> when tcpdump resolves port names).{tail}"
            " Without DNS the browser cannot find the site's address, so the site is "
            "unreachable even when its web server is up."
        )

    # -------------------------------------------------------------- figures
    def _figure(self, draw: Any) -> None:
        import matplotlib.pyplot as plt

        from .report import show

        fig, ax = plt.subplots(figsize=(10, 3.6), layout="constrained")
        draw(ax)
        show(fig)

    def timeline(self) -> Section | None:
        """Every DNS query and what came of it on one time axis (the capture's own
        window, with the reported time when it is near)."""
        from .plot import plot_timeline

        if self.transactions.empty and self.errors.empty:
            return self._p("There is no DNS query or ICMP error to draw on a timeline.")
        self._figure(lambda ax: plot_timeline(self.df, ax=ax, reported_at=self.reported_on_axis))
        return None

    def latency(self) -> Section | None:
        """Time from each query to its outcome (when any query had one)."""
        from .plot import plot_latency

        if self.transactions.empty:  # (the section has said so)
            return Section("")
        if self.transactions["latency"].isna().all():
            return self._p("No query drew a response or an error: there is no time to draw.")
        self._figure(lambda ax: plot_latency(self.transactions, ax=ax))
        return None

    def icmp_figure(self) -> Section | None:
        """The ICMP errors over time, by sender and reason (when there are any)."""
        from .plot import plot_icmp_errors

        if self.errors.empty:
            return Section("") if self.transactions.empty else self._p("There is no ICMP error.")
        self._figure(lambda ax: plot_icmp_errors(self.df, ax=ax))
        return None

    def rate(self) -> Section | None:
        """The packets a second to the DNS port, with the flood threshold."""
        from .plot import plot_rate

        d = self.diagnosis
        if d.port is None:  # (no DNS traffic: the section has said so)
            return Section("")
        self._figure(
            lambda ax: plot_rate(
                self.df,
                ax=ax,
                port=d.port or 53,
                server=d.server,
                threshold=d.facts.get("dos_threshold"),
            )
        )
        return None

    # -------------------------------------------------------------- part 2
    def evidence(self) -> Section:
        """What the capture shows, query by query."""
        d = self.diagnosis
        if d.cause == "inconclusive":
            return self._p(esc(d.summary))
        o = d.facts["outcomes"]
        counts = ", ".join(
            f"{n} {w}"
            for w, n in (
                ("answered", o["answered"]),
                ("answered with an error", o["error"]),
                ("answered by an ICMP error", o["icmp_error"]),
                ("without any response", o["no_response"]),
            )
            if n
        )
        retries = (
            f" Retries, queries that asked a failed question again: {esc(d.facts['retries'])}."
            if d.facts.get("retries")
            else ""
        )
        prose = self._p(
            f"The capture holds {len(self.df)} packets. Of "
            f"{_plural(int(d.facts['queries']), 'DNS query', 'DNS queries')} to "
            f"{esc(d.server)} port {esc(d.port)}, {counts}.{retries}",
            f"How the service fails: <b>{esc(d.failure)}</b>.",
        )
        return Section(prose.body + self._sensors())

    def _sensors(self) -> str:
        """What each input (sensor) saw of the server judged, for a capture of several."""
        sources = self.diagnosis.facts.get("sources") or []
        if not sources:
            return ""
        d = self.diagnosis
        head = (
            "<tr><th>input</th><th>packets</th><th>first</th><th>last</th><th>queries</th>"
            "<th>answered</th><th>error responses</th><th>ICMP errors</th>"
            "<th>no response</th><th>clients</th></tr>"
        )
        rows = "".join(
            f"<tr><td>{esc(s['source'])}</td><td>{esc(s['packets'])}</td>"
            f"<td>{esc(_when(s['start']))}</td><td>{esc(_when(s['end']))}</td>"
            f"<td>{esc(s['queries'])}</td><td>{esc(s['answered'])}</td>"
            f"<td>{esc(s['errors'])}</td><td>{esc(s['icmp_errors'])}</td>"
            f"<td>{esc(s['no_response'])}</td><td>{esc(s['clients'])}</td></tr>"
            for s in sources
        )
        saw = [s for s in sources if s["queries"] and s["answered"] < s["queries"]]
        words = (
            f"{_plural(len(saw), 'input')} of {len(sources)} saw queries to {esc(d.server)} "
            "fail: " + ", ".join(esc(s["source"]) for s in saw) + "."
            if saw
            else f"No input saw a query to {esc(d.server)} fail."
        )
        return (
            f"<p>The capture comes from {len(sources)} inputs (sensors, or the files of one "
            f"capture), judged together; what each saw of {esc(d.server)} port "
            f"{esc(d.port)}: {words}</p><table class='ik-table'>{head}{rows}</table>"
        )

    def hypotheses(self, *causes: str) -> Section:
        """The verdict on each named cause, with its evidence lines."""
        d = self.diagnosis
        items = []
        for h in d.hypotheses:
            if causes and h.cause not in causes:
                continue
            where = _lines(self.df, h.records)
            cite = f" <span class='ik-lines'>({where})</span>" if where else ""
            items.append(
                f"<li class='ik-{_CONFIDENCE_CLASS[h.confidence]}'>"
                f"<b>{esc(_cap(CAUSE_LABELS[h.cause]))}</b>: <i>{esc(h.confidence)}</i>"
                f"{_explains(h)}. {esc(h.sentence)}{cite}</li>"
            )
        if not items:
            return self._p("There is no DNS traffic to weigh these causes against.")
        return Section(f"<ul class='ik-hypotheses'>{''.join(items)}</ul>")

    def conclusion(self) -> Section:
        """The cause, how sure, and what the capture leaves open (each cause's own
        evidence is in its section above)."""
        d = self.diagnosis
        if d.cause == "inconclusive":
            if d.server is None or not int(d.facts.get("attempts", 0)):
                return self._p(f"<b>Inconclusive.</b> {esc(d.summary)}")
            return self._p(
                f"<b>Not determined.</b> The queries to {esc(d.server)} failed "
                f"({esc(d.failure)}), and no cause of the list explains it: each is weighed "
                "above, with what it lacks."
            )
        top = d.hypothesis(d.cause)
        sure = CONFIDENCE[top.confidence]
        open_ = [h for h in d.hypotheses if h.cause != d.cause and h.confidence != "ruled out"]
        ruled = sum(1 for h in d.hypotheses if h.confidence == "ruled out")
        body = (
            f"<p class='ik-cause'>Cause: <b>{esc(d.cause_words)}</b> ({esc(sure)}).</p>"
            f"<p>It rests on {_lines(self.df, top.records) or 'the counts above'}, weighed "
            "above against every other cause.</p>"
        )
        if open_:
            names = "; ".join(f"{esc(CAUSE_LABELS[h.cause])} ({esc(h.confidence)})" for h in open_)
            body += (
                f"<p>The capture cannot rule out: {names}. The sections above say what "
                "would tell them apart, and the next steps check it.</p>"
            )
        if ruled:
            body += f"<p>{_plural(ruled, 'other cause is', 'other causes are')} ruled out.</p>"
        return Section(body)

    def _steps(self) -> list[str]:
        """The next steps of the cause, naming the hosts that sent the ICMP errors other
        than the server itself; where none did (silence, or the server's own errors), the
        words say so instead of naming the server twice or as its own router."""
        d = self.diagnosis
        server = f"<b>{esc(d.server or 'the DNS server')}</b>"
        senders = sorted(set(self.errors["sender"].dropna()))
        others = esc(", ".join(s for s in senders if s != d.server))
        if others:
            router = f"its router ({others}) cannot deliver to it"
            filters = f"{others} and on {server}"
        else:
            router = "neither it nor a router on the path answered for it"
            filters = (
                server if senders else f"the routers and firewalls on the path and on {server}"
            )
        fill = {
            "server": server,
            "port": esc(d.port or 53),
            "proto": esc((d.protocol or "udp").upper()),
            "ss": "t" if d.protocol == "tcp" else "u",  # (ss -t: TCP sockets, -u: UDP)
            "router": router,
            "filters": filters,
        }
        return [step.format(**fill) for step in NEXT_STEPS[d.cause]]

    def next_steps(self) -> Section:
        """What the engineers should do next."""
        steps = "".join(f"<li>{step}</li>" for step in self._steps())
        return Section(f"<ol>{steps}</ol>")

    def evidence_lines(self, max_lines: int = 50) -> Section:
        """The input lines behind the conclusion, exactly as captured, numbered as the
        input numbers them (line, or frame)."""
        records = self.diagnosis.evidence_records
        if not records:
            return self._p("No evidence lines: nothing to cite.")
        heading, where = self._input_column()
        rows = self.df.loc[self.df["record"].isin(records), ["record", "raw"]].head(max_lines)
        if heading == "input":
            body = "\n".join(f"{where(r)}  {raw}" for r, raw in rows.itertuples(index=False))
        else:
            body = "\n".join(
                f"{heading} {where(r) or '?':>6}  {raw}" for r, raw in rows.itertuples(index=False)
            )
        count = self.diagnosis.hypothesis(self.diagnosis.cause).evidence_count
        note = f"<p>{len(rows)} of {count} evidence records shown.</p>" if count > len(rows) else ""
        return Section(f"{note}<pre class='ik-evidence'>{esc(body)}</pre>")
