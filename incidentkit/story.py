"""The report's prose, computed from the data: one method per step of the incident's
problem summary and solution summary.

Every value taken from a log (addresses, DNS names, raw lines: an attacker can choose a
DNS name) is HTML-escaped here, before it reaches the notebook, so the exported report
shows it as text and never runs it.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any, Final

import pandas as pd

from .diagnose import Diagnosis
from .icmp import icmp_errors
from .rules import CONFIDENCE, Hypothesis
from .services import service_name

#: What the engineers should do next, by cause. ``{server}``, ``{port}``, ``{proto}`` and
#: ``{senders}`` are filled in (escaped) from the diagnosis.
NEXT_STEPS: Final[dict[str, tuple[str, ...]]] = {
    "service_down": (
        "On {server}, check that the DNS service runs and listens on {proto} port {port} "
        "(for example <code>ss -ulpn | grep :{port}</code>); restart it and read its logs "
        "for why it stopped.",
        "Check {server}'s own firewall for a rule that rejects {proto} port {port}: a "
        "REJECT rule sends the same port unreachable error as a stopped service.",
        "Check which addresses the DNS service binds to: a server listening only on "
        "another address answers this one with the same error.",
        "Add monitoring that queries {server} from outside and alerts when it fails.",
    ),
    "host_down": (
        "Check that {server} is powered on and connected: its router ({senders}) cannot "
        "deliver to it.",
        "Check the router's neighbour table and the server's link; fail over to a "
        "secondary DNS server meanwhile.",
    ),
    "firewall": (
        "Review the filter rules on {senders} and on {server} for {proto} port {port}; "
        "allow DNS from the clients that need it.",
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

_CSS: Final = """<style>
.ik-facts th, .ik-facts td { text-align: left !important; padding-right: 1em; }
.ik-table { border-collapse: collapse; font-size: 90%; }
.ik-table th, .ik-table td { border-bottom: 1px solid #ddd; padding: 2px 8px;
  text-align: left !important; vertical-align: top; }
.ik-cause { font-size: 110%; }
.ik-certain, .ik-likely { color: #8b0000; } .ik-possible { color: #8a5a00; }
.ik-ruled-out { color: #555; }
.ik-lines { color: #555; font-size: 90%; }
.ik-evidence { white-space: pre-wrap; font-size: 85%; background: #f6f6f6; padding: 8px; }
</style>"""

_CONFIDENCE_CLASS: Final = {c: c.replace(" ", "-") for c in CONFIDENCE}


def esc(value: Any) -> str:
    """HTML-escape any value (quotes included); missing values become an empty string."""
    if value is None or (not isinstance(value, (list, tuple, dict)) and pd.isna(value)):
        return ""
    return html.escape(str(value), quote=True)


def _lines(df: pd.DataFrame, records: list[int]) -> str:
    """'line 1' / 'lines 1, 2 and 5' for the records given (their input lines)."""
    if not records:
        return ""
    lines = sorted(set(df.loc[df["record"].isin(records), "line"].astype(int)))
    shown = [str(n) for n in lines[:12]]
    more = f" and {len(lines) - 12} more" if len(lines) > 12 else ""
    if len(shown) == 1:
        return f"line {shown[0]}"
    return "lines " + (
        ", ".join(shown[:-1]) + " and " + shown[-1] if not more else ", ".join(shown) + more
    )


def _time(value: Any) -> str:
    if value is None or pd.isna(value):
        return "an unknown time"
    ts = pd.Timestamp(value)
    return ts.strftime("%Y-%m-%d %H:%M:%S.%f") if ts.year != 1970 else ts.strftime("%H:%M:%S.%f")


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

    Parameters
    ----------
    df : pandas.DataFrame
        The parsed capture.
    diagnosis : Diagnosis
        What :func:`incidentkit.diagnose` found.
    transactions : pandas.DataFrame
        :func:`incidentkit.dns_transactions` of ``df``.
    reported_at : str, optional
        When the incident was reported, as the analyst was told ("13:24").
    symptom : str
        What users saw ("destination port unreachable").
    site : str, optional
        The site users could not reach.
    """

    df: pd.DataFrame
    diagnosis: Diagnosis
    transactions: pd.DataFrame
    reported_at: str | None = None
    symptom: str = ""
    site: str | None = None
    errors: pd.DataFrame = field(init=False)

    def __post_init__(self) -> None:
        self.errors = icmp_errors(self.df)

    # -------------------------------------------------------------- helpers
    @property
    def _failing(self) -> pd.DataFrame:
        tx = self.transactions
        if self.diagnosis.server is not None:
            tx = tx.loc[tx["server"] == self.diagnosis.server]
        return tx.loc[tx["outcome"] != "answered"]

    def _p(self, *sentences: str) -> Section:
        return Section("".join(f"<p>{s}</p>" for s in sentences if s))

    # -------------------------------------------------------------- header
    def header(self, analyst: str = "", organisation: str = "", log_name: str = "") -> Section:
        """Who reports, on what, and the one-line finding."""
        d = self.diagnosis
        times = self.df["time"].dropna()
        span = (
            f"{esc(_time(times.min()))} to {esc(_time(times.max()))}"
            if len(times)
            else "no timestamps"
        )
        facts = [
            ("Site", self.site),
            ("Reported", self.reported_at),
            ("What users saw", self.symptom),
            ("Capture", log_name),
            ("Packets", f"{len(self.df)} ({span})"),
            ("Analyst", analyst),
            ("Organisation", organisation),
        ]
        rows = "".join(f"<tr><th>{k}</th><td>{esc(v)}</td></tr>" for k, v in facts if v)
        finding = (
            f"<p class='ik-cause'>Finding: <b>{esc(d.cause_words)}</b> ({esc(d.confidence)}). "
            f"{esc(d.summary)}</p>"
        )
        return Section(f"{_CSS}<table class='ik-facts'>{rows}</table>{finding}")

    def transactions_table(self, max_rows: int = 20) -> Section:
        """The DNS queries with their outcomes (the first ``max_rows``)."""
        tx = self.transactions
        if tx.empty:
            return self._p("No DNS query in the capture.")
        head = (
            "<tr><th>line</th><th>sent</th><th>client</th><th>server</th><th>name</th>"
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
                f"<tr><td>{esc(t.query_line)}</td><td>{esc(_time(t.time))}</td>"
                f"<td>{esc(t.client)}</td><td>{esc(t.server)}</td><td>{esc(t.qname)}"
                f"</td><td>{esc(t.qtype)}</td><td>{esc(t.attempt)}</td>"
                f"<td>{esc(t.outcome.replace('_', ' '))}</td><td>{esc(detail)}</td>"
                f"<td>{latency}</td></tr>"
            )
        note = f"<p>The first {max_rows} of {len(tx)} queries.</p>" if len(tx) > max_rows else ""
        return Section(f"{note}<table class='ik-table'>{head}{''.join(rows)}</table>")

    # -------------------------------------------------------------- part 1
    def reported(self) -> Section:
        """When the incident was reported, and when the capture first shows it."""
        d, tx = self.diagnosis, self.transactions
        reported = (
            f"The incident was reported at <b>{esc(self.reported_at)}</b>."
            if self.reported_at
            else "The report time was not given."
        )
        if d.cause == "inconclusive" or tx.empty:
            return self._p(reported, "The capture holds no DNS query to date it against.")
        first = tx.iloc[0]
        failing = self._failing
        seen = (
            f"The capture's first DNS query was sent at <b>{esc(_time(first['time']))}</b> "
            f"({_lines(self.df, [int(first['query_record'])])})."
        )
        if len(failing):
            f0 = failing.iloc[0]
            seen += (
                f" The first that failed was sent at <b>{esc(_time(f0['time']))}</b> "
                f"({_lines(self.df, [int(f0['query_record'])])}); the capture spans "
                f"{esc(_time(self.df['time'].min()))} to {esc(_time(self.df['time'].max()))}."
            )
        return self._p(reported, seen)

    def symptom_seen(self) -> Section:
        """What users saw, and what in the capture matches it."""
        d = self.diagnosis
        said = f"Users reported the error <b>&ldquo;{esc(self.symptom)}&rdquo;</b>" + (
            f" when opening <b>{esc(self.site)}</b>." if self.site else "."
        )
        if len(self.errors):
            top = self.errors["reason"].value_counts()
            parts = ", ".join(f"{int(n)} &times; <i>{esc(r)}</i>" for r, n in top.items())
            match = (
                f"The capture holds {len(self.errors)} ICMP error"
                f"{'s' if len(self.errors) != 1 else ''}: {parts} "
                f"({_lines(self.df, self.errors['record'].astype(int).tolist())}). "
                "A browser shows an ICMP destination-unreachable error that answers its "
                "lookups as a failure to reach the destination."
            )
        elif d.cause == "inconclusive":
            match = "The capture holds no DNS traffic to compare with."
        else:
            match = f"The capture holds no ICMP error; the DNS queries ended as: {esc(d.failure)}."
        return self._p(said, match)

    def protocol(self) -> Section:
        """Which protocol carried the failing traffic."""
        d = self.diagnosis
        if d.protocol is None:
            return self._p("No DNS traffic: no protocol to name.")
        failing = self._failing
        subject = failing if len(failing) else self.transactions
        records = subject["query_record"].astype(int).tolist()
        clients = ", ".join(esc(c) for c in sorted(set(subject["client"].dropna())))
        return self._p(
            f"The traffic that failed is <b>{esc(d.service)}</b> carried over "
            f"<b>{esc(d.protocol.upper())}</b>: {len(subject)} quer"
            f"{'ies' if len(subject) != 1 else 'y'} from {clients} to "
            f"<b>{esc(d.server)}</b> port {esc(d.port)} ({_lines(self.df, records)})."
        )

    def icmp(self) -> Section:
        """The ICMP error messages, in words."""
        if self.errors.empty:
            return self._p("There is no ICMP error in the capture.")
        rows = []
        e: Any
        for e in self.errors.itertuples(index=False):
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
                f"<tr><td>{esc(e.line)}</td><td>{esc(_time(e.time))}</td>"
                f"<td>{esc(e.sender)}</td><td>{esc(who)}</td><td>{esc(e.type)}/"
                f"{esc(e.code)}</td><td>{esc(e.reason)}</td><td>{quoted}</td>"
                f"<td>{esc(e.meaning)}</td></tr>"
            )
        head = (
            "<tr><th>line</th><th>time</th><th>sender</th><th>sender is</th>"
            "<th>type/code</th><th>reason</th><th>about</th><th>meaning</th></tr>"
        )
        return Section(f"<table class='ik-table'>{head}{''.join(rows)}</table>")

    def port(self) -> Section:
        """The port and the service it belongs to."""
        d = self.diagnosis
        if d.port is None:
            return self._p("No DNS traffic: no port to name.")
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
        retries = f" Retries: {esc(d.facts['retries'])}." if d.facts.get("retries") else ""
        return self._p(
            f"Tcpdump captured {len(self.df)} packets. Of {d.facts['queries']} DNS queries to "
            f"{esc(d.server)} port {esc(d.port)}, {counts}.{retries}",
            f"How the service fails: <b>{esc(d.failure)}</b>.",
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
                f"<b>{esc(h.cause.replace('_', ' '))}</b>: <i>{esc(h.confidence)}</i>"
                f"{_explains(h)}. {esc(h.sentence)}{cite}</li>"
            )
        if not items:
            return self._p("There is no DNS traffic to weigh these causes against.")
        return Section(f"<ul class='ik-hypotheses'>{''.join(items)}</ul>")

    def conclusion(self) -> Section:
        """The cause, how sure, what rules out the others."""
        d = self.diagnosis
        if d.cause == "inconclusive":
            return self._p(f"<b>Inconclusive.</b> {esc(d.summary)}")
        top = d.hypothesis(d.cause)
        sure = CONFIDENCE[top.confidence]
        others = [h for h in d.hypotheses if h.cause != d.cause]
        ruled = "".join(
            f"<li>{esc(h.cause.replace('_', ' '))}: {esc(h.sentence)}</li>"
            for h in others
            if h.confidence == "ruled out"
        )
        open_ = "".join(
            f"<li>{esc(h.cause.replace('_', ' '))} ({esc(h.confidence)}): {esc(h.sentence)}</li>"
            for h in others
            if h.confidence != "ruled out"
        )
        caveats = "".join(f"<li>{esc(c)}</li>" for c in d.caveats)
        body = (
            f"<p class='ik-cause'>Cause: <b>{esc(d.cause_words)}</b> ({esc(sure)}).</p>"
            f"<p>{esc(top.sentence)} "
            f"<span class='ik-lines'>({_lines(self.df, top.records)})</span></p>"
        )
        if caveats:
            body += f"<p>Caveats:</p><ul>{caveats}</ul>"
        if ruled:
            body += f"<p>Ruled out:</p><ul>{ruled}</ul>"
        if open_:
            body += f"<p>Still possible, and how to tell:</p><ul>{open_}</ul>"
        return Section(body)

    def next_steps(self) -> Section:
        """What the engineers should do next."""
        d = self.diagnosis
        senders = sorted(set(self.errors["sender"].dropna())) or [d.server or "the path"]
        fill = {
            "server": f"<b>{esc(d.server or 'the DNS server')}</b>",
            "port": esc(d.port or 53),
            "proto": esc((d.protocol or "udp").upper()),
            "senders": esc(", ".join(senders)),
        }
        steps = "".join(f"<li>{step.format(**fill)}</li>" for step in NEXT_STEPS[d.cause])
        return Section(f"<ol>{steps}</ol>")

    def evidence_lines(self) -> Section:
        """The log lines behind the conclusion, exactly as captured."""
        records = self.diagnosis.evidence_records
        if not records:
            return self._p("No evidence lines: nothing to cite.")
        rows = self.df.loc[self.df["record"].isin(records), ["line", "raw"]]
        body = "\n".join(f"{int(line):>6}  {raw}" for line, raw in rows.itertuples(index=False))
        count = self.diagnosis.hypothesis(self.diagnosis.cause).evidence_count
        note = f"<p>{len(rows)} of {count} evidence records shown.</p>" if count > len(rows) else ""
        return Section(f"{note}<pre class='ik-evidence'>{esc(body)}</pre>")
