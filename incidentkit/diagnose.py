"""From a parsed capture to a cause, following the incident's solution summary.

1. Evidence from the capture (:mod:`incidentkit.evidence`): per DNS server, what became
   of every query, and what the server and the path did otherwise.
2. One rule per cause (:mod:`incidentkit.rules`): server down, port 53 blocked by a
   firewall, a flood on port 53, a misconfigured server (and a slow one), or nothing
   wrong; each returns a :class:`Hypothesis` with its confidence in words.
3. The server that fails most is reported, with its hypotheses best first.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Final

import pandas as pd

from .evidence import Evidence, HostEvidence, ServerEvidence, Settings, TcpEvidence, evidence
from .rules import (
    CAUSE_WORDS,
    CAUSES,
    CONFIDENCE,
    DEFAULTS,
    Hypothesis,
    Sign,
    View,
    caveats,
    flood_facts,
    judge,
    made_up_names,
)
from .services import service_name
from .sources import seen_by, sources_evidence
from .streams import source_streams

__all__ = [
    "CAUSES",
    "CONFIDENCE",
    "DEFAULTS",
    "Diagnosis",
    "Hypothesis",
    "ServerJudgement",
    "Sign",
    "diagnose",
]

#: Every cause a diagnosis can name.
ALL_CAUSES: Final = (*CAUSES, "inconclusive")


@dataclass
class ServerJudgement:
    """What the capture says about one DNS server (address, port, transport)."""

    server: str
    port: int | None
    protocol: str | None
    cause: str
    confidence: str
    queries: int
    attempts: int
    failed: int
    outcomes: dict[str, int]
    hypotheses: list[Hypothesis]
    caveats: list[str] = field(default_factory=list)
    rate: dict[str, Any] = field(default_factory=dict)


@dataclass
class Diagnosis:
    """The cause of a DNS failure, with the hypotheses and evidence behind it.

    Attributes
    ----------
    cause : str
        One of service_down, host_down, firewall, dos, misconfiguration, slow_server,
        none, or inconclusive (nothing to judge).
    confidence : str
        How sure, in the words of :data:`incidentkit.rules.CONFIDENCE`.
    cause_words : str
        The cause as a sentence ("the DNS service on 203.0.113.2 is not running ...").
    server, port, protocol, service
        The DNS server judged, its port, the transport (udp or tcp), the service name.
    failure : str
        How the service fails, in words ("ICMP port unreachable from the server").
    hypotheses : list of Hypothesis
        Every cause for the judged server, best first.
    caveats : list of str
        Failures no cause accounts for (partial, intermittent), with their share.
    servers : list of ServerJudgement
        Each DNS server in the capture, judged on its own.
    facts : dict
        Counts and times a report quotes (first query, retries, rates, ...).
    evidence : dict
        The evidence per server, summarised (:meth:`incidentkit.evidence.Evidence.summary`).
    """

    cause: str
    server: str | None
    port: int | None
    protocol: str | None
    service: str | None
    failure: str
    summary: str
    hypotheses: list[Hypothesis]
    servers: list[ServerJudgement] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    confidence: str = "ruled out"
    cause_words: str = ""
    caveats: list[str] = field(default_factory=list)
    evidence: dict[str, Any] = field(default_factory=dict)

    def hypothesis(self, cause: str) -> Hypothesis:
        """The hypothesis for ``cause``."""
        return next(h for h in self.hypotheses if h.cause == cause)

    @property
    def evidence_records(self) -> list[int]:
        """Record numbers behind the named cause."""
        if self.cause == "inconclusive":
            return []
        return self.hypothesis(self.cause).records

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of everything above."""
        return _jsonable(asdict(self))


def _most(counts: Counter[Any], n: int) -> list[tuple[Any, int]]:
    """The ``n`` largest counts, ties in the order of their keys: the same whichever
    order the parts of a capture were counted in."""
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in (sorted(value) if isinstance(value, set) else value)]
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, pd.Timedelta):
        return value.total_seconds()
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and value != value:
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def _thresholds(thresholds: dict[str, Any]) -> dict[str, Any]:
    """:data:`incidentkit.rules.DEFAULTS` with the given overrides (unknown ones refused)."""
    unknown = set(thresholds) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"unknown thresholds: {sorted(unknown)}; known: {sorted(DEFAULTS)}")
    return {**DEFAULTS, **thresholds}


def diagnose(
    data: pd.DataFrame | Evidence,
    *,
    server: str | None = None,
    domain: str | None = None,
    expected_address: str | None = None,
    dos_threshold: float | None = None,
    **thresholds: Any,
) -> Diagnosis:
    """Name the cause of a DNS failure in a parsed capture, with its evidence.

    Parameters
    ----------
    data : pandas.DataFrame or Evidence
        A frame of :func:`incidentkit.read_tcpdump`, or the evidence of one or more
        captures added up (:func:`incidentkit.evidence`; its settings are used).
    server : str, optional
        The DNS server to judge. Without it every server queried is judged and the one
        that fails most is reported.
    domain : str, optional
        The site's name: only its queries are judged (when the capture has any).
    expected_address : str, optional
        The address the site should resolve to; any other answer is a misconfiguration.
    dos_threshold : float, optional
        New queries per interval that make a flood. Without it: ``dos_factor`` times the
        rate of the capture's quietest quarter of intervals, and at least ``dos_min_rate``.
    **thresholds
        Overrides of :data:`incidentkit.rules.DEFAULTS`.

    Returns
    -------
    Diagnosis

    Examples
    --------
    >>> from incidentkit import read_tcpdump
    >>> d = diagnose(read_tcpdump("data/yummyrecipesforme_dns_icmp.log"))
    >>> d.cause, d.confidence, d.protocol, d.port, d.service
    ('service_down', 'likely', 'udp', 53, 'DNS')
    >>> d.hypothesis("firewall").confidence
    'possible'
    """
    cfg = _thresholds(thresholds)
    sources: dict[str, Evidence] = {}
    if isinstance(data, Evidence):
        cfg["dos_freq"] = data.settings.freq
        ev = data.settled()
    else:
        settings = evidence_settings(domain, expected_address, **thresholds)
        ev = Evidence(settings)
        for rows in source_streams(data):  # (inputs read together: each stream alone)
            part = data if rows.all() else data.loc[rows]
            ev = ev + evidence(part, settings, settled=True)
        sources = sources_evidence(data, settings)
    d = _diagnose(ev, cfg, server, dos_threshold)
    if sources:
        d.facts["sources"] = seen_by(sources, d, ev.settings)
    if isinstance(data, pd.DataFrame) and d.cause != "inconclusive":
        d.caveats.extend(_capture_caveats(data.attrs.get("capture") or {}))
    return d


#: LINKTYPE_NFLOG: packets a Linux firewall's rules logged (tcpdump -i nflog:N)
_NFLOG = 239


def _capture_caveats(capture: dict[str, Any]) -> list[str]:
    """What the capture file says about how far its packets can be read as the network's:
    a firewall's log (NFLOG) holds only what its rules logged, with the times the log was
    read when the kernel gave none. ``capture`` is a frame's ``attrs["capture"]`` (of one
    file, or with ``sources``, one per input)."""
    files = capture.get("sources") or [capture]
    logged = [f for f in files if _NFLOG in (f.get("link_types") or [])]
    if not logged:
        return []
    if len(files) == 1:
        which = "The capture was"
    else:
        verb = "was" if len(logged) == 1 else "were"
        which = f"{len(logged)} of the {len(files)} inputs {verb}"
    return [
        f"{which} written from a firewall's log (NFLOG). Such a capture holds only the "
        "packets the firewall's rules logged, so a query without an answer in it may have "
        "been answered; and its times can be when the log was read (several packets at "
        "once), not when the packets crossed, so its latencies are not the network's."
    ]


def evidence_settings(
    domain: str | None = None, expected_address: str | None = None, **thresholds: Any
) -> Settings:
    """The settings :func:`diagnose` takes a frame's evidence with, for these options."""
    cfg = _thresholds(thresholds)
    return Settings(
        reply_window=cfg["reply_window"],
        retry_window=cfg["retry_window"],
        freq=str(cfg["dos_freq"]),
        retry_min_gap=cfg["retry_min_gap"],
        domain=domain or None,
        expected_address=expected_address or None,
    )


def _diagnose(
    ev: Evidence, cfg: dict[str, Any], server: str | None, dos_threshold: float | None
) -> Diagnosis:
    views = _views(ev, cfg, dos_threshold, server)
    if not views:
        why = (
            f"no DNS query to {server} in the capture"
            if server
            else "the capture holds no DNS query"
        )
        return Diagnosis(
            "inconclusive",
            server,
            None,
            None,
            None,
            "no DNS traffic",
            f"Inconclusive: {why}, so there is nothing to judge.",
            [],
            [],
            {"queries": 0, "records": ev.packets},
            cause_words=CAUSE_WORDS["inconclusive"],
            evidence=ev.summary(),
        )
    judged = [_judgement(v) for v in views]
    failing = [
        (j, v)
        for j, v in zip(judged, views, strict=True)
        if j.cause not in ("none", "inconclusive")
    ]
    pick_j, pick_v = max(
        failing or list(zip(judged, views, strict=True)),
        key=lambda jv: (jv[0].failed, jv[0].attempts),
    )
    return _diagnosis(pick_j, pick_v, judged, ev)


def _views(
    ev: Evidence, cfg: dict[str, Any], dos_threshold: float | None, server: str | None
) -> list[View]:
    site_any = ev.settings.domain is not None and any(
        site and s.queries for (_, _, _, site), s in ev.servers.items()
    )
    merged: dict[tuple[Any, ...], ServerEvidence] = {}
    every: dict[tuple[Any, ...], ServerEvidence] = {}
    for (a, p, t_, site), s in ev.servers.items():
        k = (a, p, t_)
        every[k] = every[k] + s if k in every else s
        if site or not site_any:
            merged[k] = merged[k] + s if k in merged else s
    keys: list[tuple[str, int | None, str | None]] = list(merged)
    for (a, p), t in ev.tcp.items():
        if p == 53 and t.syn and (a, p, "tcp") not in merged:
            keys.append((a, p, "tcp"))
    if not keys:  # no DNS on the wire: hosts whose address nobody could resolve
        keys = [
            (addr, None, None) for addr, h in sorted(ev.hosts.items()) if h.who_has and not h.is_at
        ]
    if server:
        keys = [k for k in keys if k[0] == server]
    keys.sort(key=lambda k: (k[0], -1 if k[1] is None else k[1], k[2] or ""))
    queried = {k[0] for k in every}
    views = []
    for addr, port, transport in keys:
        s = (
            merged.get((addr, port, transport), ServerEvidence())
            if port is not None
            else ServerEvidence()
        )
        tcp = ev.tcp.get((addr, port), TcpEvidence()) if port is not None else TcpEvidence()
        tcp_answered = every[(addr, port, "tcp")].answered if (addr, port, "tcp") in every else 0
        peer = [k for k in every if k[0] == addr and k[1] == port and k[2] != transport]
        v = View(
            addr,
            port,
            transport,
            s,
            ev.host(addr),
            tcp,
            tcp_answered if transport != "tcp" else 0,
            sum(every[k].answered for k in peer),
            ev,
            cfg,
        )
        clients = set(s.clients)
        v.refused_answers = sum(
            ev.hosts.get(c, HostEvidence()).refused_answers.get(addr, 0) for c in clients
        )
        v.unsolicited = Counter(
            {a: n for (a, c), n in ev.unsolicited.items() if c in clients and a not in queried}
        )
        v.stray = sum(n for (a, c), n in ev.mismatched.items() if a == addr and c in clients)
        if site_any and port is not None and transport is not None:
            other = ev.servers.get((addr, port, transport, False))
            v.other_names = other.answers if other is not None else 0
        full = every.get((addr, port, transport), s) if port is not None else s
        v.made_up = made_up_names(s.nx_names, full.found, int(cfg["made_up_min_names"]))
        v.flood = flood_facts(full, ev, cfg, dos_threshold)
        views.append(v)
    return views


def _judgement(v: View) -> ServerJudgement:
    hyps = judge(v)
    top = hyps[0]
    cause = top.cause if top.confidence != "ruled out" else "inconclusive"
    s = v.s
    outcomes = {
        "answered": s.answered + s.wrong + s.nodata,
        "error": sum(s.errors.values()),
        "icmp_error": sum(s.icmp.values()),
        "no_response": s.silent,
    }
    rate = {
        "dos_threshold": v.flood.get("threshold"),
        "rate_baseline": v.flood.get("baseline", 0.0),
        "rate_peak": v.flood.get("peak", 0),
        "rate_peak_sources": v.flood.get("sources", 0),
        "rate_interval": str(v.cfg["dos_freq"]),
        "flood_queries": v.flood.get("flood_queries", 0),
        "flood_sources": v.flood.get("top_sources", []),
    }
    return ServerJudgement(
        v.server,
        v.port,
        v.transport,
        cause,
        top.confidence if cause != "inconclusive" else "ruled out",
        s.queries,
        v.attempts,
        v.failed,
        outcomes,
        hyps,
        caveats(v),
        rate,
    )


def _failure_words(v: View) -> str:
    s = v.s
    if s.icmp:
        (_kind, reason, role), _ = _most(s.icmp, 1)[0]
        senders = sorted(s.icmp_senders)
        who = "the server" if role == "server" else ", ".join(x for x in senders if x != v.server)
        return f"ICMP {reason} from {who or 'a hop'}"
    if v.tcp_refused:
        return "TCP connections reset by the server"
    if v.late_refused:
        return "answers after the clients had given up"
    if s.silent or v.tcp_silent:
        if v.stray:  # (answers came, with another DNS id)
            return "no matching response (the server answered with other DNS ids)"
        if v.unsolicited:  # (answers came, from elsewhere)
            others = ", ".join(sorted(v.unsolicited))
            return f"no response from the server (answers came from {others})"
        return "no response"
    if s.errors:
        return f"{_most(s.errors, 1)[0][0]} responses"
    if v.resolution_unanswered:
        return "no answer to address resolution on the local segment"
    if s.nodata:
        return "answers without an address"
    if s.wrong:
        return "answers other than the expected address"
    if v.flood.get("spike_bins"):
        return f"a flood of {v.flood['flood_queries']} queries"
    return "answered"


def _retries(s: ServerEvidence) -> str:
    """The retries in words: 'the client asked 3 times for x A, 120 s and 120 s apart'."""
    gaps: dict[tuple[str, str, str], list[float | None]] = {}
    for _, client, name, qtype, gap in s.retry_gaps:
        gaps.setdefault((client, name, qtype), []).append(gap)
    parts = []
    for (client, name, qtype), gs in list(gaps.items())[:5]:
        asked = len(gs) + 1
        shown = [f"{g:g} s" if g is not None else "an unknown time" for g in gs]
        spacing = " and ".join(shown) if len(shown) < 4 else ", ".join(shown[:3]) + ", ..."
        parts.append(f"{client} asked {asked} times for {name} {qtype}, {spacing} apart")
    return "; ".join(parts) + ("; ..." if len(gaps) > 5 else "")


def _diagnosis(
    j: ServerJudgement, v: View, judged: list[ServerJudgement], ev: Evidence
) -> Diagnosis:
    s = v.s
    service = service_name(v.port) if v.port is not None else None
    failure = _failure_words(v)
    gaps = sorted(s.retry_gaps)
    facts: dict[str, Any] = {
        "queries": s.queries,
        "attempts": v.attempts,
        "failed": v.failed,
        "questions": len(s.questions),
        "max_attempts": s.questions.max(),
        "retries_count": s.retries,
        "retry_intervals_s": [g[-1] for g in gaps],
        "outcomes": j.outcomes,
        "first_query": s.first_time,
        "first_query_record": min((r for r, _ in s.latencies), default=None),
        "first_failure": s.first_failure,
        "latencies_s": [None if lat != lat else lat for _, lat in s.latencies],
        "retries": _retries(s),
        **j.rate,
        "clients": sorted(s.clients)[:50],
        "top_clients": _most(s.clients, 10),
        "names": sorted(s.names)[:50],
        "server_sent": v.alive,
    }
    top = j.hypotheses[0]
    words = CAUSE_WORDS[j.cause].format(server=v.server)
    what = f"{service} over {v.proto}" if service else "Traffic"
    met = failure
    if j.cause == "none" and v.failed:  # (a few failures among answers: said as such)
        met = f"answered, but {v.failed} of {v.attempts} met {failure}"
    if j.cause == "inconclusive":
        summary = f"Inconclusive for {v.server}: the queries met {failure}; no cause is supported."
    else:
        summary = f"{what} to {v.where}: {met}. Cause ({j.confidence}): {words}. {top.sentence}"
    return Diagnosis(
        j.cause,
        v.server,
        v.port,
        v.transport,
        service,
        failure,
        summary,
        j.hypotheses,
        judged,
        facts,
        confidence=j.confidence,
        cause_words=words,
        caveats=j.caveats,
        evidence=ev.summary(),
    )
