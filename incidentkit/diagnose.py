"""From a parsed capture to a cause, following the incident's solution summary.

1. Evidence from the capture: which protocol, port and service fail, and how.
2. Server down, or port 53 blocked by a firewall?
3. A flood on port 53 (a denial of service)?
4. Otherwise: a misconfigured DNS server (REFUSED, SERVFAIL, NXDOMAIN, a wrong answer).

Every cause gets a verdict, a score, the record numbers of its evidence and a sentence a
report can quote; the cause named is the best supported one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Final

import pandas as pd

from .dns import _transactions
from .icmp import FILTER_REASONS, HOST_REASONS, PORT_REASONS
from .services import service_name
from .traffic import traffic_rate

CAUSES: Final = (
    "service_down",
    "host_down",
    "firewall",
    "dos",
    "misconfiguration",
    "none",
    "inconclusive",
)
#: The order of the solution summary: it breaks ties between equal scores.
_ORDER: Final = {
    c: i
    for i, c in enumerate(
        ("service_down", "host_down", "firewall", "dos", "misconfiguration", "none")
    )
}
_FAIL_RCODES: Final = frozenset(
    {"ServFail", "Refused", "NXDomain", "FormErr", "NotImp", "NotAuth", "NotZone"}
)

#: Thresholds, with their defaults; every one is a parameter of :func:`diagnose`.
DEFAULTS: Final[dict[str, Any]] = {
    "dos_freq": "1s",  # interval of the query rate
    "dos_factor": 10.0,  # a flood is this many times the capture's own baseline rate ...
    "dos_min_rate": 100,  # ... and at least this many queries per interval ...
    "dos_min_sources": 10,  # ... from at least this many source addresses
    "retry_window": "5min",  # a repeated question within this time is a retry
    "max_evidence": 50,  # record numbers kept per hypothesis (the count is always kept)
}


@dataclass
class Hypothesis:
    """One cause, judged: ``verdict`` is supported, possible or ruled out."""

    cause: str
    verdict: str
    score: float
    records: list[int]
    sentence: str
    evidence_count: int = 0


@dataclass
class ServerJudgement:
    """What the capture says about one DNS server."""

    server: str
    port: int
    protocol: str
    cause: str
    queries: int
    outcomes: dict[str, int]
    hypotheses: list[Hypothesis]
    rate: dict[str, Any] = field(default_factory=dict)


@dataclass
class Diagnosis:
    """The cause of a DNS failure, with the hypotheses and evidence behind it.

    Attributes
    ----------
    cause : str
        One of service_down, host_down, firewall, dos, misconfiguration, none, or
        inconclusive (no DNS traffic to judge).
    server, port, protocol, service
        The DNS server judged, its port, the transport (udp or tcp), the service name.
    failure : str
        How the service fails, in words ("ICMP port unreachable from the server").
    hypotheses : list of Hypothesis
        Every cause for the judged server, best first.
    servers : list of ServerJudgement
        Each DNS server in the capture, judged on its own.
    facts : dict
        Counts and times a report quotes (first query, retries, rates, ...).
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


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, pd.Timedelta):
        return value.total_seconds()
    if value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def _recs(series: pd.Series, limit: int) -> list[int]:
    return [int(v) for v in series.dropna().head(limit)]


def _involved(tx: pd.DataFrame, limit: int) -> list[int]:
    """The records of the first transactions (query, then its outcome), ``limit`` at most."""
    out: list[int] = []
    head = tx.head(limit)
    for query, outcome in zip(head["query_record"], head["outcome_record"], strict=True):
        out.append(int(query))
        if not pd.isna(outcome):
            out.append(int(outcome))
        if len(out) >= limit:
            break
    return sorted(out[:limit])


def _most_common(values: pd.Series) -> Any:
    """The most frequent value; on a tie, the one seen first."""
    counts = values.value_counts(sort=False)
    best = set(counts[counts == counts.max()].index)
    return next(v for v in values if v in best)


def _distinct(values: pd.Series) -> list[Any]:
    """The distinct values present, sorted."""
    return sorted(values.dropna().unique().tolist())


def _plural(n: int, word: str) -> str:
    if n == 1:
        return f"{n} {word}"
    return f"{n} {word[:-1]}ies" if word.endswith("y") else f"{n} {word}s"


def _judge(
    df: pd.DataFrame,
    tx: pd.DataFrame,
    server: str,
    *,
    domain: str | None,
    expected_address: str | None,
    dos_threshold: float | None,
    cfg: dict[str, Any],
) -> ServerJudgement:
    limit = int(cfg["max_evidence"])
    port = int(_most_common(tx["server_port"]))
    protocol = str(_most_common(tx["proto"]))
    where = f"{server} port {port}"
    n = len(tx)
    icmp = tx["outcome"] == "icmp_error"
    reason = tx["icmp_reason"].fillna("")
    from_server = (tx["icmp_sender"] == server).fillna(False)
    port_srv = icmp & reason.isin(PORT_REASONS) & from_server
    port_hop = icmp & reason.isin(PORT_REASONS) & ~from_server
    filt = icmp & reason.isin(FILTER_REASONS)
    host = icmp & reason.isin(HOST_REASONS)
    silent = tx["outcome"] == "no_response"
    errors = tx["outcome"] == "error"
    wrong = pd.Series(False, index=tx.index)
    if expected_address:
        wrong = (tx["outcome"] == "answered") & tx["addresses"].map(
            lambda a: bool(a) and expected_address not in a
        )
    nx_site = errors & (tx["rcode"] == "NXDomain")
    if domain:
        nx_site &= tx["qname"].str.lower().eq(domain.lower()).fillna(False)
    bad_rcode = errors & tx["rcode"].isin(_FAIL_RCODES - {"NXDomain"}).fillna(False)
    failed = ~(tx["outcome"] == "answered") | wrong
    n_fail = int(failed.sum())

    # signs of life from the server itself: anything it sent (answers, pings, ARP replies,
    # and the port unreachable errors themselves)
    alive_rows = df["record"][(df["src"] == server).fillna(False) & (df["proto"] != "unparsed")]
    alive = len(alive_rows) > 0
    alive_recs = _recs(alive_rows, 10)

    hyps: list[Hypothesis] = []

    def add(
        cause: str,
        verdict: str,
        score: float,
        recs: list[int],
        sentence: str,
        count: int | None = None,
    ) -> None:
        hyps.append(
            Hypothesis(
                cause,
                verdict,
                round(float(score), 3),
                recs,
                sentence,
                count if count is not None else len(recs),
            )
        )

    frac = (lambda m: float(m.sum()) / n_fail) if n_fail else (lambda m: 0.0)

    # -- 2a. service down: the host is up and says nothing listens on the port
    k = int(port_srv.sum())
    if k:
        add(
            "service_down",
            "supported" if frac(port_srv) >= 0.5 else "possible",
            frac(port_srv),
            _involved(tx[port_srv], limit),
            f"{k} of {_plural(n, 'query')} to {where} drew ICMP port unreachable from "
            f"{server} itself: the host is up, but nothing accepts {protocol.upper()} on "
            f"port {port}.",
            count=2 * k,
        )
    else:
        add(
            "service_down",
            "ruled out",
            0.0,
            [],
            f"{server} sent no port unreachable error: nothing shows a stopped service.",
        )

    # -- 2b. host down: a router says the host cannot be reached
    k = int(host.sum())
    if k and not alive:
        add(
            "host_down",
            "supported",
            frac(host),
            _involved(tx[host], limit),
            f"{k} of {_plural(n, 'query')} to {where} drew '"
            + "', '".join(_distinct(reason[host]))
            + f"' from {', '.join(_distinct(tx.loc[host, 'icmp_sender']))}, and "
            f"{server} sent nothing at all: the host is down or cut off.",
            count=2 * k,
        )
    elif alive:
        add(
            "host_down",
            "ruled out",
            0.0,
            alive_recs,
            f"{server} is up: it sent {_plural(len(alive_rows), 'packet')} in this capture "
            f"(records {', '.join(map(str, alive_recs[:5]))}).",
            count=len(alive_rows),
        )
    elif silent.any():
        add(
            "host_down",
            "possible",
            0.4 * frac(silent),
            _involved(tx[silent], limit),
            f"{int(silent.sum())} of {_plural(n, 'query')} to {where} got no answer and "
            f"{server} sent nothing at all: it may be down (or a filter drops everything).",
        )
    else:
        add("host_down", "ruled out", 0.0, [], "No error says the host cannot be reached.")

    # -- 2c. firewall: a filter refuses, a hop rejects, or the port is silent on a live host
    k_f, k_h, k_s = int(filt.sum()), int(port_hop.sum()), int(silent.sum())
    if k_f or k_h:
        senders = _distinct(tx.loc[filt | port_hop, "icmp_sender"])
        what = "', '".join(_distinct(reason[filt | port_hop]))
        add(
            "firewall",
            "supported",
            frac(filt | port_hop),
            _involved(tx[filt | port_hop], limit),
            f"{k_f + k_h} of {_plural(n, 'query')} to {where} were refused with '{what}' by "
            f"{', '.join(senders)}"
            + ("" if senders == [server] else ", not by the server")
            + f": a packet filter blocks {protocol.upper()} port {port}.",
            count=2 * (k_f + k_h),
        )
    elif k_s and alive:
        add(
            "firewall",
            "supported",
            0.9 * frac(silent),
            _involved(tx[silent], limit) + alive_recs,
            f"{k_s} of {_plural(n, 'query')} to {where} got no answer and no error while "
            f"{server} answered other traffic (records {', '.join(map(str, alive_recs[:5]))}): "
            f"a filter silently drops port {port}.",
            count=k_s + len(alive_rows),
        )
    elif k_s:
        add(
            "firewall",
            "supported" if frac(silent) >= 0.5 else "possible",
            0.6 * frac(silent),
            _involved(tx[silent], limit),
            f"{k_s} of {_plural(n, 'query')} to {where} got no answer and no error: a filter "
            "that drops silently looks like this (a ping of the server would tell it from a "
            "host that is down).",
        )
    elif k := int(port_srv.sum()):
        add(
            "firewall",
            "possible",
            0.3,
            _involved(tx[port_srv], limit),
            f"A firewall rule that rejects (iptables' default REJECT) answers with the same "
            f"port unreachable from {server}: the capture cannot tell it from a stopped "
            "service; the server's own rules can.",
            count=2 * k,
        )
    else:
        add(
            "firewall",
            "ruled out",
            0.0,
            [],
            f"Nothing was refused or dropped on the way to {where}.",
        )

    # -- 3. a flood on the port
    rate = traffic_rate(df, port=port, freq=str(cfg["dos_freq"]), server=server)
    if len(rate):
        baseline = float(rate["packets"].median())
        peak = int(rate["packets"].max())
        threshold = (
            float(dos_threshold)
            if dos_threshold is not None
            else max(float(cfg["dos_min_rate"]), float(cfg["dos_factor"]) * max(baseline, 1.0))
        )
        spike = rate["packets"] >= threshold
        flood, sources = df.loc[[], ["record", "src"]], 0
        if spike.any():  # the packets of the busy intervals, and where they came from
            to_port = df.loc[
                (df["dst"] == server).fillna(False) & (df["dport"] == port).fillna(False),
                ["record", "src", "time"],
            ]
            busy = to_port["time"].dt.floor(str(cfg["dos_freq"])).isin(rate.index[spike])
            flood = to_port.loc[busy, ["record", "src"]]
            sources = int(flood["src"].nunique())
    else:
        baseline, peak, threshold, spike = 0.0, 0, float("nan"), pd.Series(dtype=bool)
        flood, sources = df.loc[[], ["record", "src"]], 0
    unit = f"per {cfg['dos_freq']}"
    if spike.any() and sources >= int(cfg["dos_min_sources"]):
        add(
            "dos",
            "supported",
            min(1.0, peak / threshold) * 0.95,
            _recs(flood["record"], limit),
            f"{int(rate.loc[spike, 'packets'].sum())} packets to {where} arrived in "
            f"{_plural(int(spike.sum()), 'interval')} of {cfg['dos_freq']} from {sources} "
            f"addresses, peaking at {peak} {unit} against a baseline of {baseline:g}: a flood.",
            count=len(flood),
        )
    else:
        add(
            "dos",
            "ruled out",
            0.0,
            [],
            f"The busiest {cfg['dos_freq']} carried {_plural(peak, 'packet')} to {where} "
            f"(baseline {baseline:g} {unit}; a flood needs {threshold:g} from "
            f"{cfg['dos_min_sources']} or more sources): no flood.",
        )

    # -- 4. misconfiguration: answers that refuse, fail, deny the name or point elsewhere
    bad = bad_rcode | nx_site | wrong
    if bad.any():
        parts = []
        for code in _distinct(tx.loc[bad_rcode | nx_site, "rcode"]):
            parts.append(f"{int(((bad_rcode | nx_site) & (tx['rcode'] == code)).sum())} {code}")
        if wrong.any():
            got = sorted({a for addrs in tx.loc[wrong, "addresses"] for a in addrs})
            parts.append(
                f"{int(wrong.sum())} answered {', '.join(got)} instead of {expected_address}"
            )
        answered = int((~silent & ~icmp).sum())
        add(
            "misconfiguration",
            "supported",
            float(bad.sum()) / max(answered, 1),
            _involved(tx[bad], limit),
            f"{server} answered, but wrongly: {'; '.join(parts)} (of "
            f"{_plural(answered, 'answered query')}): the server is misconfigured.",
            count=2 * int(bad.sum()),
        )
    elif int(port_srv.sum()):
        add(
            "misconfiguration",
            "possible",
            0.2,
            [],
            f"A DNS server listening on another address or port than {where} draws the same "
            "port unreachable: check the server's listen addresses.",
        )
    elif n_fail == int(silent.sum() + icmp.sum()) and n_fail:
        add(
            "misconfiguration",
            "ruled out",
            0.0,
            [],
            f"{server} never answered, so no answer shows a configuration fault.",
        )
    else:
        add(
            "misconfiguration",
            "ruled out",
            0.0,
            [],
            "Every answer was NoError"
            + (f" and gave {expected_address}" if expected_address else "")
            + ".",
        )

    # -- none: everything answered as it should
    if n_fail == 0 and not any(h.cause == "dos" and h.verdict == "supported" for h in hyps):
        add(
            "none",
            "supported",
            1.0,
            _involved(tx, limit),
            f"All {_plural(n, 'query')} to {where} were answered"
            + (f" with {expected_address}" if expected_address else "")
            + ".",
            count=2 * n,
        )
    else:
        add(
            "none",
            "ruled out",
            0.0,
            _involved(tx[failed], limit),
            f"{n_fail} of {_plural(n, 'query')} to {where} failed"
            if n_fail
            else "A flood hit the server.",
            count=2 * n_fail,
        )

    hyps.sort(
        key=lambda h: (
            {"supported": 0, "possible": 1, "ruled out": 2}[h.verdict],
            -h.score,
            _ORDER[h.cause],
        )
    )
    cause = hyps[0].cause if hyps[0].verdict != "ruled out" else "inconclusive"
    rate_facts = {
        "dos_threshold": None if threshold != threshold else threshold,
        "rate_baseline": baseline,
        "rate_peak": peak,
        "rate_peak_sources": sources,
        "rate_interval": str(cfg["dos_freq"]),
    }
    outcomes = {
        o: int((tx["outcome"] == o).sum())
        for o in ("answered", "error", "icmp_error", "no_response")
    }
    return ServerJudgement(server, port, protocol, cause, n, outcomes, hyps, rate_facts)


def diagnose(
    df: pd.DataFrame,
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
    df : pandas.DataFrame
        A frame of :func:`incidentkit.read_tcpdump`.
    server : str, optional
        The DNS server to judge. Without it every server queried is judged and the one
        that fails most is reported.
    domain : str, optional
        The site's name: only its queries are judged (when the capture has any).
    expected_address : str, optional
        The address the site should resolve to; any other answer is a misconfiguration.
    dos_threshold : float, optional
        Queries per interval that make a flood. Without it: ``dos_factor`` times the
        capture's median rate, and at least ``dos_min_rate``.
    **thresholds
        Overrides of :data:`DEFAULTS` (``dos_freq``, ``dos_factor``, ``dos_min_rate``,
        ``dos_min_sources``, ``retry_window``, ``max_evidence``).

    Returns
    -------
    Diagnosis

    Examples
    --------
    >>> from incidentkit import read_tcpdump
    >>> d = diagnose(read_tcpdump("data/yummyrecipesforme_dns_icmp.log"))
    >>> d.cause, d.protocol, d.port, d.service, d.hypothesis("firewall").verdict
    ('service_down', 'udp', 53, 'DNS', 'possible')
    """
    unknown = set(thresholds) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"unknown thresholds: {sorted(unknown)}; known: {sorted(DEFAULTS)}")
    cfg = {**DEFAULTS, **thresholds}
    # (the per-row lists of records and addresses are only needed for an expected address)
    tx = _transactions(df, retry_window=cfg["retry_window"], lists=bool(expected_address))
    if domain:
        name = tx["qname"].str.lower()
        site = (name.eq(domain.lower()) | name.str.endswith("." + domain.lower())).fillna(False)
        if site.any():
            tx = tx.loc[site]
    servers = [server] if server else tx["server"].dropna().unique().tolist()
    judged = [
        _judge(
            df,
            tx.loc[tx["server"] == s],
            s,
            domain=domain,
            expected_address=expected_address,
            dos_threshold=dos_threshold,
            cfg=cfg,
        )
        for s in servers
        if (tx["server"] == s).any()
    ]
    if not judged:
        why = (
            "the capture holds no DNS query"
            if len(tx) == 0 and not server
            else f"no DNS query to {server} in the capture"
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
            {"queries": 0, "records": len(df)},
        )
    failing = [j for j in judged if j.cause not in ("none", "inconclusive")]
    pick = max(failing or judged, key=lambda j: (j.queries - j.outcomes["answered"], j.queries))
    return _diagnosis(df, tx.loc[tx["server"] == pick.server], pick, judged)


def _failure_words(j: ServerJudgement, tx: pd.DataFrame) -> str:
    icmp = tx.loc[tx["outcome"] == "icmp_error"]
    if len(icmp):
        top = icmp["icmp_reason"].value_counts().index[0]
        senders = _distinct(icmp.loc[icmp["icmp_reason"] == top, "icmp_sender"])
        who = "the server" if senders == [j.server] else ", ".join(senders)
        return f"ICMP {top} from {who}"
    if j.outcomes["no_response"]:
        return "no response"
    errors = tx.loc[tx["outcome"] == "error", "rcode"]
    if len(errors):
        return f"{errors.value_counts().index[0]} responses"
    if j.cause == "misconfiguration":
        return "answers other than the expected address"
    return "answered"


def _retries(tx: pd.DataFrame) -> str:
    """The retries in words: 'the client asked 3 times for x A, 120 s and 120 s apart'."""
    parts = []
    sizes = tx["question"].value_counts()
    repeated = sizes.index[sizes >= 2]
    # only the first six repeated questions are told, so only they are looked at
    first_seen = tx.loc[tx["question"].isin(repeated)].sort_values("query_record")
    shown = first_seen["question"].unique()[:6].tolist()
    subset = first_seen.loc[first_seen["question"].isin(shown)]
    for _, group in subset.groupby("question", sort=False):
        gaps = [f"{g.total_seconds():g} s" for g in group["time"].diff().dropna()]
        spacing = (
            f", {' and '.join(gaps) if len(gaps) < 4 else ', '.join(gaps[:3]) + ', ...'} apart"
        )
        first = group.iloc[0]
        parts.append(
            f"{first['client']} asked {len(group)} times for {first['qname']} "
            f"{first['qtype']}" + (spacing if gaps else "")
        )
    return "; ".join(parts[:5]) + ("; ..." if len(repeated) > 5 else "")


def _diagnosis(
    df: pd.DataFrame, tx: pd.DataFrame, j: ServerJudgement, judged: list[ServerJudgement]
) -> Diagnosis:
    service = service_name(j.port)
    failure = _failure_words(j, tx)
    attempts = tx.groupby("question")["attempt"].max()
    gaps = tx.sort_values("query_record").groupby("question")["time"].diff().dropna()
    facts: dict[str, Any] = {
        "queries": len(tx),
        "questions": int(tx["question"].nunique()),
        "max_attempts": int(attempts.max()),
        "retry_intervals_s": [round(g, 6) for g in gaps.dt.total_seconds().tolist()],
        "outcomes": j.outcomes,
        "first_query": tx["time"].min(),
        "first_query_record": int(tx["query_record"].min()),
        "first_failure": tx.loc[tx["outcome"] != "answered", "time"].min(),
        # the first queries' latencies (a flood has a million; a report quotes a few)
        "latencies_s": [
            None if pd.isna(v) else round(v.total_seconds(), 6) for v in tx["latency"].head(50)
        ],
        "retries": _retries(tx),
        **j.rate,
        "clients": _distinct(tx["client"])[:50],
        "names": _distinct(tx["qname"])[:50],
    }
    top = j.hypotheses[0]
    if j.cause == "inconclusive":
        summary = f"Inconclusive for {j.server}: no hypothesis is supported."
    else:
        summary = (
            f"{service} over {j.protocol.upper()} to {j.server} port {j.port}: "
            f"{failure}. Cause: {j.cause.replace('_', ' ')}. {top.sentence}"
        )
    return Diagnosis(
        j.cause,
        j.server,
        j.port,
        j.protocol,
        service,
        failure,
        summary,
        j.hypotheses,
        judged,
        facts,
    )
