"""One rule per cause: each reads the evidence of one server and returns a Hypothesis.

The rules are listed in :data:`RULES`, in the order of the incident's solution summary
(server down, firewall, flood, misconfiguration), which also breaks ties. Adding a cause
is adding one function to that table.

Confidence
----------
Every rule names two quantities and derives its confidence from them in the same way
(:func:`confidence`):

``explains``
    the share of the server's failed attempts (queries without a correct answer, and TCP
    connections refused or unanswered) that the cause accounts for;
``signs``
    the independent observations that point to it. A *conclusive* sign is one no other
    cause produces (an administratively-prohibited ICMP code, a reset to a SYN,
    unanswered address resolution, a flood rate, an answer that refuses).

=========  ==========================================================================
certain    "certain as far as a capture can tell": it explains at least 90 % of the
           failures with a conclusive sign (or two independent signs), and no other
           cause that is still open explains as many as half of them.
likely     it explains at least half of the failures with at least one sign of its own.
possible   it explains some failures, or fits the evidence, with no sign of its own
           (a REJECT rule answers as a stopped service does), or it explains only a
           minority of the attempts (a few failures among many answers).
ruled out  nothing in the capture points to it, or the capture contradicts it (a host
           that sent anything is not down).
=========  ==========================================================================

A stopped service or a filter fails every query on its port: failures among mostly
answered queries (packet loss, one query type unanswered, an answer after the client
gave up) are reported as caveats with their share, and the cause follows what the
traffic as a whole shows.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pandas as pd

from .evidence import (
    FAIL_RCODES,
    FINE_NS,
    Evidence,
    HostEvidence,
    ServerEvidence,
    TcpEvidence,
    _hash,
)

#: Confidence words, strongest first, with what each means.
CONFIDENCE: Final[dict[str, str]] = {
    "certain": "certain as far as a capture can tell",
    "likely": "likely: it explains most failures, with a sign of its own",
    "possible": "possible: it fits the evidence, but nothing singles it out",
    "ruled out": "ruled out: nothing points to it, or the capture contradicts it",
}
#: Causes in the order of the solution summary (ties go to the earlier one).
CAUSES: Final = (
    "service_down",
    "host_down",
    "firewall",
    "dos",
    "misconfiguration",
    "slow_server",
    "none",
)
#: The causes in words, as a report says them ({server} is filled in).
CAUSE_WORDS: Final[dict[str, str]] = {
    "service_down": "the DNS service on {server} is not running (nothing listens on its port)",
    "host_down": "the DNS server {server} is down or cut off from the network",
    "firewall": "a firewall blocks DNS traffic to {server}",
    "dos": "a flood of DNS queries hit {server} (a denial of service)",
    "misconfiguration": "the DNS server {server} is misconfigured: it answers, but wrongly",
    "slow_server": (
        "the DNS server {server} answers too slowly: clients give up before its answers come"
    ),
    "none": "DNS on {server} worked: the queries were answered",
    "inconclusive": "the capture does not show why",
}

#: Thresholds, with their defaults; every one is a parameter of :func:`incidentkit.diagnose`.
DEFAULTS: Final[dict[str, Any]] = {
    "dos_freq": "1s",  # interval of the query rate
    "dos_factor": 10.0,  # a flood is this many times the capture's own baseline rate ...
    "dos_min_rate": 100,  # ... and at least this many new queries per interval
    "ddos_min_sources": 10,  # from this many sources a flood is a distributed one (words)
    "retry_window": "5min",  # a repeated question within this time is a retry
    "retry_min_gap": "100ms",  # a retry comes at least this long after the attempt before
    "reply_window": "5min",  # the longest wait for an answer or ICMP error
    "max_evidence": 50,  # record numbers kept per hypothesis (the count is always kept)
    # NXDomain for this many names and more, each asked at most twice on average, in a
    # zone whose other names were answered: names that do not exist (random subdomains)
    "made_up_min_names": 10,
    # this many failures and more, all in one stretch of time in which nothing was answered,
    # with answers before or after it: an outage, judged as a failure, not as a minority
    "outage_min_failures": 3,
}

_RANK: Final = {c: i for i, c in enumerate(CONFIDENCE)}


@dataclass
class Sign:
    """One observation behind a hypothesis."""

    name: str
    count: int
    conclusive: bool
    records: list[int] = field(default_factory=list)


@dataclass
class Hypothesis:
    """One cause, judged.

    ``confidence`` is one of :data:`CONFIDENCE`; ``explains`` the share of failed
    attempts it accounts for; ``signs`` what points to it; ``claims`` the numbers its
    sentence states (so they can be checked against the capture).
    """

    cause: str
    confidence: str
    explains: float
    signs: list[Sign]
    sentence: str
    records: list[int]
    evidence_count: int = 0
    claims: dict[str, int] = field(default_factory=dict)


def confidence(explains: float, signs: list[Sign], *, minority: bool = False) -> str:
    """The confidence words for a share of failures explained and the signs behind it
    (before comparing with the other causes; see the module's notes)."""
    conclusive = any(s.conclusive for s in signs)
    if explains <= 0 and not signs:
        return "ruled out"
    if minority:
        return "possible"
    if explains >= 0.9 and (conclusive or len(signs) >= 2):
        return "certain"
    if explains >= 0.5 and signs:
        return "likely"
    return "possible"


# --------------------------------------------------------------------------- the view
@dataclass
class View:
    """The evidence of one server, with the quantities every rule reads."""

    server: str
    port: int | None
    transport: str | None
    s: ServerEvidence
    host: HostEvidence
    tcp: TcpEvidence
    tcp_answered: int  # DNS answers over TCP from the same server
    peer_answered: int  # answers on the server's other transport
    ev: Evidence
    cfg: dict[str, Any]
    # derived below
    refused_answers: int = 0
    unsolicited: Counter[str] = field(default_factory=Counter)
    #: answers the server sent its clients on the ports of a query that got none, that
    #: pair with no query (another DNS id than the query's; Evidence.mismatched)
    stray: int = 0
    #: answers (any rcode) the same address, port and transport gave to the queries of
    #: other names, when ``--domain`` judges one site's
    other_names: int = 0
    flood: dict[str, Any] = field(default_factory=dict)
    #: NXDomain answers to names that do not exist in a zone that answers (made_up_names):
    #: answered as they should be, not failures
    made_up: Counter[str] = field(default_factory=Counter)

    @property
    def absent(self) -> int:
        """Queries answered NXDomain for names that do not exist (:attr:`made_up`)."""
        return sum(self.made_up.values())

    @property
    def tcp_refused(self) -> int:
        return self.tcp.rst if self.transport in ("tcp", None) else 0

    @property
    def tcp_silent(self) -> int:
        if self.transport not in ("tcp", None):
            return 0
        return max(0, self.tcp.syn - self.tcp.syn_ack - self.tcp.rst)

    @property
    def truncated_stuck(self) -> int:
        """Truncated UDP answers whose TCP retry got no answer."""
        if self.transport != "udp" or self.tcp_answered:
            return 0
        return self.s.truncated

    @property
    def late_refused(self) -> int:
        """Answers the clients refused because they had given up: at most the answers
        given, and only answers that came late (after the client asked again, or half a
        second and more on average). A client that refuses prompt answers (a second copy
        of an answer it took, its own filter) has not given up on a slow server."""
        refused = min(self.refused_answers, self.s.answered + self.s.wrong + self.s.nodata)
        mean = self.s.latency_sum / self.s.latency_n if self.s.latency_n else 0.0
        return refused if mean >= 0.5 else min(refused, self.s.after_retry)

    @property
    def resolution_unanswered(self) -> int:
        return self.host.who_has if self.host.who_has and not self.host.is_at else 0

    @property
    def attempts(self) -> int:
        n = self.s.queries + self.tcp_refused + self.tcp_silent
        return n if n else self.resolution_unanswered

    @property
    def good(self) -> int:
        answered = self.s.answered + self.absent
        return max(0, answered - self.truncated_stuck - self.late_refused)

    @property
    def failed(self) -> int:
        return max(0, self.attempts - self.good)

    @property
    def alive(self) -> int:
        """Packets the server sent (answers, pings, errors, ARP replies, segments)."""
        return self.host.sent

    @property
    def minority(self) -> bool:
        """Failures are a minority of the attempts: a partial failure, not a block (an
        :attr:`outage` is a block for a while)."""
        return self.attempts > 0 and self.failed < 0.5 * self.attempts and self.outage is None

    @functools.cached_property
    def outage(self) -> tuple[pd.Timestamp, pd.Timestamp, int] | None:
        """(from, to, failures) when every failed query came in one stretch of time in which
        no query was answered, with answers before or after it: the service stopped for a
        while (a restart, a crash, a rule put in and taken out). None otherwise, and when
        any failure is not a query's (TCP, an answer refused as late, a truncated answer
        not asked again), or its time is unknown. The stretch runs from the first failed
        query to the end of the tenth of a second (FINE_NS) of the last one."""
        fails, good = self.s.fine_failed, self.s.fine_good
        n = sum(fails.values())
        if n < int(self.cfg["outage_min_failures"]) or not good:
            return None
        if self.absent or n != self.s.queries - self.s.answered or self.failed != n:
            return None
        lo, hi = min(fails), max(fails)
        if any(lo <= b <= hi for b in good):
            return None
        return pd.Timestamp(lo * FINE_NS), pd.Timestamp((hi + 1) * FINE_NS), n

    def icmp(self, kind: str, role: str | None = None) -> int:
        return sum(
            n for (k, _, r), n in self.s.icmp.items() if k == kind and (role is None or r == role)
        )

    def reasons(self, kind: str, role: str | None = None) -> list[str]:
        return sorted(
            {reason for (k, reason, r) in self.s.icmp if k == kind and (role is None or r == role)}
        )

    def share(self, n: int) -> float:
        return min(1.0, n / self.failed) if self.failed else 0.0

    def recs(self, *kinds: str) -> list[int]:
        out: set[int] = set()
        for kind in kinds:
            out.update(self.s.records.get(kind, []))
        return sorted(out)[: int(self.cfg["max_evidence"])]

    @property
    def where(self) -> str:
        if self.port is None:
            return self.server
        return f"{self.server} port {self.port}"

    @property
    def proto(self) -> str:
        return (self.transport or "dns").upper()


def _stretch(v: View) -> str:
    """When the :attr:`View.outage` was, in words: "about 1.2 s (10:00:01.2 to
    10:00:02.4)", in the capture's clock."""
    assert v.outage is not None
    start, end, _ = v.outage
    seconds = (end - start).total_seconds()
    stamp = "%H:%M:%S.%f"
    return f"about {seconds:.1f} s ({start.strftime(stamp)[:-5]} to {end.strftime(stamp)[:-5]})"


def _around(v: View) -> str:
    """Whether the answers came before the outage, after it, or both."""
    assert v.outage is not None
    start, end, _ = v.outage
    lo, hi = start.value // FINE_NS, end.value // FINE_NS
    before = any(b < lo for b in v.s.fine_good)
    after = any(b >= hi for b in v.s.fine_good)
    return "before and after it" if before and after else "before it" if before else "after it"


def _plural(n: int, word: str) -> str:
    if n == 1:
        return f"{n} {word}"
    if word.endswith("y") and not word.endswith("ey"):
        return f"{n} {word[:-1]}ies"
    return f"{n} {word}es" if word.endswith("s") else f"{n} {word}s"


def _q(v: View) -> str:
    """'3 queries' / '3 connection attempts' for the view's attempts."""
    if v.s.queries:
        return (
            _plural(v.attempts, "query")
            if v.attempts == v.s.queries
            else _plural(v.attempts, "attempt")
        )
    if v.tcp.syn:
        return _plural(v.attempts, "connection attempt")
    return _plural(v.attempts, "address lookup")


def _share(n: int, v: View, noun: str = "query") -> str:
    """'all 3 queries', 'the only query', '2 of 5 queries' for n of the view's attempts."""
    total = v.attempts
    if n >= total and total == 1:
        return f"the only {noun}"
    if n >= total:
        return f"all {_plural(total, noun)}"
    return f"{n} of {_plural(total, noun)}"


def _noun(v: View) -> str:
    if v.s.queries:
        return "query"
    return "connection attempt" if v.tcp.syn else "address lookup"


def _hyp(
    cause: str,
    v: View,
    explains: float,
    signs: list[Sign],
    sentence: str,
    *,
    minority: bool | None = None,
    ruled_out: bool = False,
    claims: dict[str, int] | None = None,
) -> Hypothesis:
    level = (
        "ruled out"
        if ruled_out
        else confidence(explains, signs, minority=v.minority if minority is None else minority)
    )
    records = sorted({r for s in signs for r in s.records})[: int(v.cfg["max_evidence"])]
    count = sum(max(s.count, len(s.records)) for s in signs)
    return Hypothesis(
        cause, level, round(float(explains), 3), signs, sentence, records, count, claims or {}
    )


# --------------------------------------------------------------------------- the rules
def service_down(v: View) -> Hypothesis:
    """Port unreachable from the server itself, or a reset to a SYN on its port."""
    port = v.icmp("port", "server")
    signs = []
    if port:
        signs.append(
            Sign("port unreachable from the server itself", port, False, v.recs("icmp_port_server"))
        )
    if v.tcp_refused:  # (iptables' REJECT --reject-with tcp-reset answers the same)
        signs.append(Sign("TCP reset to a SYN on the port", v.tcp_refused, False, v.tcp.records))
    if not signs:
        return _hyp(
            "service_down",
            v,
            0.0,
            [],
            f"A stopped service answers with ICMP port unreachable (or a TCP reset); "
            f"{v.server} sent neither for port {v.port}.",
            ruled_out=True,
        )
    parts = []
    if port:
        parts.append(f"{_share(port, v)} drew ICMP port unreachable from {v.server} itself")
    if v.tcp_refused:
        parts.append(
            f"{_share(v.tcp_refused, v, 'TCP connection attempt')} were reset by {v.server}"
        )
    tail = (
        f"the host is up, but nothing accepts {v.proto} on port {v.port}."
        if not v.s.answered
        else f"the host is up; some {v.proto} queries on port {v.port} were not accepted."
    )
    if v.outage and port:
        around = _around(v)
        tail = f"the service stopped for {_stretch(v)}, and answered {around}: " + (
            "it was down for a while (a restart, a crash, or a stop)."
            if around == "before and after it"
            else "it stopped, and had not come back when the capture ended."
            if around == "before it"
            else "it was down when the capture began, and came back."
        )
    return _hyp(
        "service_down",
        v,
        v.share(port + v.tcp_refused),
        signs,
        f"On {v.where}, {' and '.join(parts)}: {tail}",
        claims={"port_unreachable_from_server": port, "tcp_resets": v.tcp_refused},
    )


def host_down(v: View) -> Hypothesis:
    """Host or net unreachable from a router, or unanswered address resolution, and no
    sign of life from the server."""
    if v.alive:
        return _hyp(
            "host_down",
            v,
            0.0,
            [],
            f"{v.server} is up: it sent {_plural(v.alive, 'packet')} in this capture.",
            ruled_out=True,
            claims={"server_sent": v.alive},
        )
    unreach = v.icmp("host") + v.icmp("route")
    signs = []
    if unreach:
        signs.append(
            Sign(
                "host or network unreachable from a router",
                unreach,
                True,
                v.recs("icmp_host"),
            )
        )
    if v.resolution_unanswered:
        signs.append(
            Sign(
                "address resolution for the server unanswered",
                v.resolution_unanswered,
                True,
                v.host.resolution_records,
            )
        )
    silent = v.s.silent + v.tcp_silent
    if not signs and not silent:
        return _hyp(
            "host_down",
            v,
            0.0,
            [],
            f"No error says {v.server} cannot be reached.",
            ruled_out=True,
            claims={"server_sent": 0},
        )
    if not signs:  # silence alone: a filter that drops everything looks the same
        return _hyp(
            "host_down",
            v,
            v.share(silent),
            [],
            f"{_plural(silent, 'attempt')} to {v.where} got no response at all, and {v.server} "
            "sent nothing in this capture: it may be down, or a filter may drop everything "
            "(a ping from the same place would tell).",
            claims={"server_sent": 0},
        )
    parts = []
    if unreach:
        senders = ", ".join(sorted(v.s.icmp_senders)) or "a router"
        words = "', '".join(v.reasons("host") + v.reasons("route"))
        parts.append(f"{_share(unreach, v)} to {v.where} drew '{words}' from {senders}")
    if v.resolution_unanswered:
        parts.append(
            f"{_plural(v.resolution_unanswered, 'request')} for {v.server}'s link-layer address "
            "went unanswered on the local segment"
        )
    explains = v.share(unreach + (silent if v.resolution_unanswered else 0)) if v.failed else 1.0
    if not v.s.queries and v.resolution_unanswered:
        explains = 1.0
    return _hyp(
        "host_down",
        v,
        explains,
        signs,
        f"{'; '.join(parts).capitalize()}, and {v.server} sent nothing at all: the host is "
        "down or cut off.",
        claims={"server_sent": 0},
    )


def firewall(v: View) -> Hypothesis:
    """A filter: admin-prohibited codes, port unreachable from a hop, silence while the
    server is alive, or a TCP retry of a truncated answer that gets nowhere."""
    filt = v.icmp("filter")
    hop = v.icmp("port", "hop")
    # (queries lost in a flood are the flood's; those the server answered with another
    # DNS id or port than theirs are the misconfiguration's)
    silent = v.s.silent + v.tcp_silent - v.flood.get("silent_in_spike", 0)
    # ... and as many as the ICMP errors the clients got that quote nothing could be theirs
    unquoted = sum(v.ev.hosts[c].icmp_unquoted for c in v.s.clients if c in v.ev.hosts)
    silent = max(0, silent - v.stray - unquoted)
    signs = []
    parts = []
    if filt:
        words = "', '".join(v.reasons("filter"))
        senders = ", ".join(sorted(v.s.icmp_senders))
        signs.append(Sign("administratively prohibited", filt, True, v.recs("icmp_filter")))
        parts.append(f"{_share(filt, v)} were refused with '{words}' by {senders}")
    hops = ", ".join(s for s in sorted(v.s.icmp_senders) if s != v.server) or "a router"
    if hop:
        words = "', '".join(v.reasons("port", "hop"))
        signs.append(Sign("port unreachable from a hop", hop, True, v.recs("icmp_port_hop")))
        parts.append(f"{_share(hop, v)} drew '{words}' from {hops}, not the server")
    # a router that cannot reach a server that is up, for its DNS port only, rejects
    cut = v.icmp("host") + v.icmp("route") if v.alive else 0
    if cut:
        words = "', '".join(v.reasons("host") + v.reasons("route"))
        signs.append(
            Sign(
                "host or network unreachable from a router while the server is up",
                cut,
                True,
                v.recs("icmp_host") + v.host.sent_records[:5],
            )
        )
        parts.append(
            f"{_share(cut, v)} drew '{words}' from {hops} while {v.server} sent "
            f"{_plural(v.alive, 'packet')}"
        )
    other_life = v.alive - v.icmp("port", "server")
    # the same port answered other queries (or sent answers to none): not a port blocked
    answering = v.s.answers + v.other_names
    if silent and other_life > 0:
        what = (
            f"answered {_plural(v.tcp_answered + v.peer_answered, 'DNS query')} "
            "on its other transport"
            if v.tcp_answered or v.peer_answered
            else f"sent {_plural(v.alive, 'packet')} of other traffic"
        )
        if answering:
            what = f"gave {_plural(answering, 'answer')} on the same port"
        signs.append(
            Sign(
                "no response while the server is up"
                + (" and answers on the same port" if answering else ""),
                silent,
                not answering,
                v.recs("silent") + v.host.sent_records[:5],
            )
        )
        parts.append(
            f"{_share(silent, v, _noun(v))} got no response at all while {v.server} {what}"
        )
    tcp_blocked = max(0, v.tcp.syn - v.tcp.syn_ack)
    if v.truncated_stuck and tcp_blocked:
        signs.append(
            Sign(
                "truncated answers whose TCP retry is blocked",
                v.truncated_stuck,
                True,
                v.recs("truncated") + v.tcp.records,
            )
        )
        parts.append(
            f"{_plural(v.truncated_stuck, 'answer')} came truncated and the TCP retry got "
            + ("a reset" if v.tcp.rst else "no answer")
        )
    if signs:
        explained = (
            filt
            + hop
            + cut
            + (silent if other_life > 0 else 0)
            + (v.truncated_stuck if tcp_blocked else 0)
        )
        blocked = (
            f"a packet filter blocks {v.proto} port {v.port}"
            if not answering or len(signs) > 1
            else f"a filter drops some {v.proto} traffic on port {v.port} (by size, name or "
            "type), or it is lost on the way"
        )
        if v.outage:
            around = _around(v)
            blocked = (
                f"a filter blocked {v.proto} port {v.port} for {_stretch(v)}, and queries were "
                f"answered {around}: "
                + (
                    "a rule put in and taken out"
                    if around == "before and after it"
                    else "a rule put in during the capture"
                    if around == "before it"
                    else "a rule taken out during the capture"
                )
                + ("" if filt or hop or cut else ", or a path that failed for a while")
            )
        return _hyp(
            "firewall",
            v,
            v.share(explained),
            signs,
            f"On {v.where}, {'; '.join(parts)}: {blocked}.",
            claims={"server_sent": v.alive, "no_response": silent},
            minority=v.minority
            or (bool(v.other_names) and not (filt or hop or cut or tcp_blocked)),
        )
    if v.tcp_refused:  # iptables' REJECT --reject-with tcp-reset answers as a closed port
        return _hyp(
            "firewall",
            v,
            v.share(v.tcp_refused),
            [],
            f"A firewall rule that rejects with a TCP reset answers as a closed port does: "
            f"the capture cannot tell it from a stopped service on {v.where}; the server's "
            "own rules can.",
        )
    port = v.icmp("port", "server")
    if port:  # iptables' REJECT answers as a stopped service does
        return _hyp(
            "firewall",
            v,
            v.share(port),
            [],
            f"A firewall rule that rejects (iptables' default REJECT) answers with the same "
            f"port unreachable from {v.server}: the capture cannot tell it from a stopped "
            "service; the server's own rules can.",
        )
    if silent:
        return _hyp(
            "firewall",
            v,
            v.share(silent),
            [],
            f"{_plural(silent, 'attempt')} to {v.where} got no response at all, and {v.server} "
            "sent nothing else to tell a filter from a host that is down.",
            claims={"server_sent": v.alive, "no_response": silent},
        )
    died = v.icmp("path") + v.icmp("other", "hop") + unquoted
    if died:  # time exceeded and the like: the queries died on the way, no filter did it
        said = v.reasons("path") + v.reasons("other", "hop")
        words = "', '".join(said)
        errors = (
            f"{_plural(died, 'ICMP error')} ('{words}') about them"
            if said
            else f"its clients {_plural(died, 'ICMP error')} that quote no query (tcpdump -v "
            "shows what they quote)"
        )
        return _hyp(
            "firewall",
            v,
            0.0,
            [],
            f"No filter refused or dropped the queries to {v.where}, but routers sent "
            f"{errors}: the queries died on the way (a routing loop, or a hop limit too "
            "small).",
            ruled_out=True,
        )
    return _hyp(
        "firewall",
        v,
        0.0,
        [],
        f"Nothing was refused or dropped on the way to {v.where}.",
        ruled_out=True,
    )


def dos(v: View) -> Hypothesis:
    """A query rate far above the capture's baseline, not explained by retries."""
    f = v.flood
    unit = f"per {v.cfg['dos_freq']}"
    random = _made_up_words(v)
    if not f.get("spike_bins") and random:
        return _hyp(
            "dos",
            v,
            0.0,
            [Sign("queries for names that do not exist", v.absent, False, v.recs("error"))],
            f"{random}. The busiest {v.cfg['dos_freq']} carried "
            f"{_plural(f.get('peak', 0), 'new query')} to {v.where} (baseline "
            f"{f.get('baseline', 0):g} {unit}; a flood needs {f.get('threshold', 0):g}): "
            "below the rate of a flood, and the server answered them.",
            claims={"made_up_queries": v.absent, "made_up_names": len(v.made_up)},
        )
    if not f.get("spike_bins"):
        return _hyp(
            "dos",
            v,
            0.0,
            [],
            f"The busiest {v.cfg['dos_freq']} carried {_plural(f.get('peak', 0), 'new query')} "
            f"to {v.where} (baseline {f.get('baseline', 0):g} {unit}; a flood needs "
            f"{f.get('threshold', 0):g}): no flood."
            + (
                f" {_plural(v.s.retries, 'query')} repeated a question whose last attempt "
                "had failed: retries, not a flood."
                if v.s.retries
                else ""
            ),
            ruled_out=True,
        )
    sources = f["sources"]
    kind = (
        "distributed denial of service"
        if sources >= int(v.cfg["ddos_min_sources"])
        else ("denial of service")
    )
    signs = [
        Sign(
            f"query rate {f['peak']:g} {unit} against a baseline of {f['baseline']:g}",
            f["flood_queries"],
            True,
            f["records"],
        )
    ]
    worse = ""
    if f["answered_in_spike"] < 0.9 * max(f["answered_outside"], 1e-9) and f["answered_outside"]:
        signs.append(
            Sign(
                "the server's answers stopped or slowed during the spike", f["flood_queries"], False
            )
        )
        worse = (
            f" During the spike {f['answered_in_spike']:.0%} of queries got an answer (any "
            f"rcode), against {f['answered_outside']:.0%} outside it."
        )
    if random:
        worse += f" {random}."
    explains = v.share(f["failed_in_spike"]) if v.failed else 1.0
    return _hyp(
        "dos",
        v,
        explains,
        signs,
        f"{f['flood_queries']} new queries to {v.where} arrived in "
        f"{_plural(len(f['spike_bins']), 'interval')} of {v.cfg['dos_freq']} from "
        f"{_plural(sources, 'source address')}, peaking at {f['peak']:g} {unit} against a "
        f"baseline of {f['baseline']:g}: a {kind}.{worse}",
        minority=False,
        claims={"flood_queries": f["flood_queries"], "sources": sources},
    )


def _parent(name: str) -> str | None:
    """The zone a name is in when it is one under a domain (``a.example.com`` ->
    ``example.com``); None for a name of two labels and less (no top-level zone)."""
    _, dot, rest = name.partition(".")
    return rest if dot and "." in rest else None


def made_up_names(nx_names: Counter[str], found: Counter[str], min_names: int) -> Counter[str]:
    """The names of NXDomain answers that are names that do not exist, not a fault of the
    server: at least ``min_names`` names, asked at most twice each on average, that were
    never answered with records, in zones (``_parent``) whose other names were (``found``).

    A zone the server lost denies its names too, but answers none of them; a name users
    need and the zone lacks is asked again and again. Many names, each asked about once,
    denied by a zone that works, are the pattern of a random-subdomain flood.

    Examples
    --------
    >>> found = Counter({"www.example.com": 5})
    >>> nx = Counter({f"x{i}.example.com": 1 for i in range(12)})
    >>> len(made_up_names(nx, found, 10)), len(made_up_names(nx, Counter(), 10))
    (12, 0)
    """
    zones = set(found) | {z for z in map(_parent, found) if z is not None}
    denied = Counter({n: c for n, c in nx_names.items() if n not in found and _parent(n) in zones})
    if len(denied) < min_names or sum(denied.values()) > 2 * len(denied):
        return Counter()
    return denied


def _made_up_words(v: View) -> str:
    """The sentence on :attr:`View.made_up`, or ""."""
    if not v.made_up:
        return ""
    zones = Counter(_parent(n) for n in v.made_up)
    named = " and ".join(str(z) for z, _ in zones.most_common(2))
    more = f" (and {len(zones) - 2} other zones)" if len(zones) > 2 else ""
    return (
        f"{_plural(v.absent, 'query')} asked for {_plural(len(v.made_up), 'name')} under "
        f"{named}{more} that do not exist, each about once, and got NXDomain while the "
        "zone answered its other names: random subdomains, the pattern of a random-subdomain "
        "(water torture) flood"
    )


def misconfiguration(v: View) -> Hypothesis:
    """Answers that refuse, fail, deny the site or point elsewhere."""
    s = v.s
    bad_rcodes = {k: n for k, n in s.errors.items() if k in FAIL_RCODES}
    nx = max(0, s.nxdomain_site - v.absent)
    wrong_src = sum(v.unsolicited.values())
    signs = []
    parts = []
    for code, n in sorted(bad_rcodes.items()):
        parts.append(f"{n} {code}")
    if nx:
        parts.append(f"{nx} NXDomain for the site")
    if bad_rcodes or nx:
        signs.append(Sign("error answers", sum(bad_rcodes.values()) + nx, True, v.recs("error")))
    if s.nodata:
        signs.append(Sign("no address for the site", s.nodata, True, v.recs("nodata")))
        parts.append(f"{s.nodata} NoError with no address")
    if s.wrong:
        got = ", ".join(sorted(s.wrong_addresses))
        want = v.ev.settings.expected_address
        signs.append(Sign("an address other than the expected one", s.wrong, True, v.recs("wrong")))
        parts.append(f"{s.wrong} answered {got} instead of {want}")
    stray = min(v.stray, s.silent)
    if stray:
        signs.append(
            Sign(
                "answers from the server that answer no query",
                stray,
                True,
                v.ev.mismatched_records,
            )
        )
        parts.append(
            f"{_plural(stray, 'answer')} from {v.server} came on the ports of an unanswered "
            "query with another DNS id than the query's"
        )
    unanswered = v.s.silent if v.other_names and not v.s.answered else 0
    if unanswered:
        signs.append(Sign("the site's names unanswered while others are", unanswered, False))
        parts.append(
            f"{_share(unanswered, v)} for the site got no answer while {v.where} gave "
            f"{_plural(v.other_names, 'answer')} to other names (it cannot resolve the site: "
            "its zone or its upstream)"
        )
    if wrong_src:
        who = ", ".join(sorted(v.unsolicited))
        signs.append(
            Sign(
                "answers from an address other than the one asked",
                wrong_src,
                True,
                v.ev.unsolicited_records,
            )
        )
        parts.append(
            f"{_plural(wrong_src, 'answer')} came from {who}, which the clients never asked"
        )
    if signs:
        explained = (
            sum(bad_rcodes.values())
            + nx
            + s.nodata
            + s.wrong
            + min(wrong_src + stray, v.failed)
            + unanswered
        )
        answered = s.answers
        lead = (
            f"{v.server} answered, but wrongly"
            if answered
            else f"{v.server}'s answers went astray"
            if stray or wrong_src
            else f"{v.server} answers, but not for the site"
        )
        return _hyp(
            "misconfiguration",
            v,
            v.share(explained),
            signs,
            f"{lead}: {'; '.join(parts)} (of {_q(v)}): the server is misconfigured.",
            claims={"answers": answered},
        )
    if v.icmp("port", "server"):
        return _hyp(
            "misconfiguration",
            v,
            v.share(v.icmp("port", "server")),
            [],
            f"A DNS server listening on another address or port than {v.where} draws the same "
            "port unreachable: check the server's listen addresses.",
        )
    if not (s.answered or s.errors or s.wrong or s.nodata):
        if v.host.sent_dns:
            sentence = (
                f"No query on {v.proto} port {v.port} was answered, and the "
                f"{_plural(v.host.sent_dns, 'answer')} {v.server} gave otherwise show no "
                "configuration fault."
            )
        else:
            sentence = (
                f"No DNS answer came from {v.server}, so no answer shows a configuration fault."
            )
        return _hyp(
            "misconfiguration",
            v,
            0.0,
            [],
            sentence,
            ruled_out=True,
            claims={"answers": v.host.sent_dns},
        )
    want = v.ev.settings.expected_address
    sentence = "Every answer was NoError" + (f" and gave {want}" if want else "") + "."
    if v.absent:
        sentence = (
            f"The {_plural(v.absent, 'NXDomain answer')} denied names that do not exist in a "
            "zone the server answers; every other answer was NoError"
            + (f" and gave {want}" if want else "")
            + "."
        )
    return _hyp("misconfiguration", v, 0.0, [], sentence, ruled_out=True)


def slow_server(v: View) -> Hypothesis:
    """Answers that came only after the clients had given up (they refused them)."""
    late = v.late_refused
    if not late:
        return _hyp(
            "slow_server",
            v,
            0.0,
            [],
            "No client refused a late answer"
            + (
                f"; {_plural(v.s.after_retry, 'answer')} came after the client had asked again."
                if v.s.after_retry
                else "."
            ),
            ruled_out=True,
        )
    signs = [Sign("clients refused answers that came too late", late, True, v.recs("after_retry"))]
    mean = v.s.latency_sum / v.s.latency_n if v.s.latency_n else 0.0
    took = f"; its answers took {mean:.1f} s on average" if mean >= 0.5 else ""
    return _hyp(
        "slow_server",
        v,
        v.share(late),
        signs,
        f"{v.server} answered, but {_plural(late, 'answer')} came only after the client "
        f"had given up (it sent port unreachable back){took}: the server is too slow for "
        "its clients.",
        claims={"refused_answers": late},
    )


def none(v: View) -> Hypothesis:
    """Everything answered as it should (a few failures among answers are caveats)."""
    if v.flood.get("spike_bins"):
        return _hyp("none", v, 0.0, [], "A flood hit the server.", ruled_out=True)
    if v.attempts == 0 or v.good == 0 or v.failed >= 0.5 * v.attempts:
        return _hyp(
            "none",
            v,
            0.0,
            [],
            f"{v.failed} of {_q(v)} to {v.where} failed.",
            ruled_out=True,
            claims={"failed": v.failed},
        )
    want = v.ev.settings.expected_address
    signs = [Sign("answered", v.good, v.failed == 0, v.recs("answered"))]
    verb = "was" if v.good == 1 else "were"
    sentence = f"{v.good} of {_q(v)} to {v.where} {verb} answered" + (
        f" with {want}" if want else ""
    )
    if v.outage:
        sentence += f"; the other {v.failed} failed together, within {_stretch(v)}: an outage."
    else:
        sentence += (
            "."
            if not v.failed
            else f"; the other {v.failed} {'is a caveat' if v.failed == 1 else 'are caveats'}, "
            "not a cause."
        )
    return _hyp(
        "none",
        v,
        1.0 if not v.failed else v.good / v.attempts,
        signs,
        sentence,
        minority=v.outage is not None,
        claims={"failed": v.failed},
    )


#: cause -> rule; the order of the solution summary.
RULES: Final[dict[str, Callable[[View], Hypothesis]]] = {
    "service_down": service_down,
    "host_down": host_down,
    "firewall": firewall,
    "dos": dos,
    "misconfiguration": misconfiguration,
    "slow_server": slow_server,
    "none": none,
}


def judge(v: View) -> list[Hypothesis]:
    """Every rule on one server's evidence, ranked; "certain" is kept only where no
    other open cause explains half as many failures."""
    hyps = [rule(v) for rule in RULES.values()]
    for h in hyps:
        if h.confidence != "certain":
            continue
        rivals = [
            o
            for o in hyps
            if o is not h
            and o.confidence != "ruled out"
            and o.cause != "none"
            and o.explains >= 0.5
        ]
        if rivals and h.cause != "dos":
            h.confidence = "likely"
    order = {c: i for i, c in enumerate(CAUSES)}
    hyps.sort(key=lambda h: (_RANK[h.confidence], -h.explains, -len(h.signs), order[h.cause]))
    return hyps


def caveats(v: View) -> list[str]:
    """Failures that no cause accounts for: partial, intermittent, or a minority."""
    out: list[str] = []
    a = v.attempts
    if not a:
        return out

    def pct(n: int) -> str:
        return f"{n / a:.0%}"

    if v.s.resent:
        n = v.s.resent
        why = (
            f"it sent port unreachable back for {_plural(v.refused_answers, 'answer')}"
            if v.refused_answers
            else "the answer was lost after this capture point, a fragmented answer did not "
            "arrive whole, or the client's own filter dropped it"
        )
        out.append(
            f"{_plural(n, 'answered query')} {'was' if n == 1 else 'were'} sent again with the "
            f"same DNS id after {'its' if n == 1 else 'their'} answer had come: the client did "
            f"not take the answer ({why})."
        )
    if v.outage:  # (it says what the minority caveats of silence and port unreachable would)
        out.append(
            f"All {v.outage[2]} failures came within {_stretch(v)}, and queries were answered "
            f"{_around(v)}: an outage, not scattered loss."
        )
    silent = v.s.silent - v.flood.get("silent_in_spike", 0)  # (a flood's are the flood's)
    if v.good and 0 < silent < 0.5 * a and not v.outage:
        out.append(
            f"{_plural(silent, 'query')} of {a} to {v.where} ({pct(silent)}) got no "
            "response while the others were answered: packet loss on the path, a query type "
            "the server or a filter ignores, or an answer after the client gave up."
        )
    if v.good and v.icmp("port", "server") and not v.outage:
        n = v.icmp("port", "server")
        out.append(
            f"{_plural(n, 'query')} of {a} ({pct(n)}) drew port unreachable although other "
            "queries were answered."
        )
    if v.s.after_retry:
        out.append(
            f"{_plural(v.s.after_retry, 'answer')} came only after the client had asked again."
        )
    errors = Counter(v.s.errors)
    errors["NXDomain"] -= v.absent  # (names that do not exist: the dos hypothesis says so)
    errors = +errors
    if v.good and errors:
        errs = ", ".join(f"{n} {k}" for k, n in sorted(errors.items()))
        out.append(f"Some answers were errors ({errs}).")
    return out


def _quartile(counts: np.ndarray, *, zeros: int) -> float:
    """The 25th percentile (linear, as ``np.percentile``) of the sorted ``counts`` with
    ``zeros`` intervals of 0 before them, without making those zeros."""
    n = zeros + len(counts)
    if n == 0:
        return 0.0
    at = 0.25 * (n - 1)
    low, high = int(np.floor(at)), int(np.ceil(at))

    def value(i: int) -> float:
        return 0.0 if i < zeros else float(counts[i - zeros])

    return value(low) + (at - low) * (value(high) - value(low))


def flood_facts(
    s: ServerEvidence, ev: Evidence, cfg: dict[str, Any], threshold: float | None
) -> dict[str, Any]:
    """The rate of new queries per interval against the capture's baseline."""
    freq = pd.Timedelta(str(cfg["dos_freq"])).value
    if ev.start is None or ev.end is None or not s.bins:
        return {
            "baseline": 0.0,
            "peak": 0,
            "threshold": float(cfg["dos_min_rate"]),
            "spike_bins": [],
        }
    first = ev.start.value // freq
    last = ev.end.value // freq
    n_bins = int(last - first + 1)
    counts = np.sort(np.fromiter(s.bins.values(), dtype=np.int64))
    # the baseline is the quietest quarter's rate: a flood that fills most of the
    # capture does not raise it
    baseline = _quartile(counts, zeros=max(0, n_bins - len(counts)))
    limit = (
        float(threshold)
        if threshold is not None
        else max(float(cfg["dos_min_rate"]), float(cfg["dos_factor"]) * max(baseline, 1.0))
    )
    peak = max(s.bins_new.values(), default=0)
    spike = sorted(b for b, n in s.bins_new.items() if n >= limit)
    out: dict[str, Any] = {
        "baseline": baseline,
        "peak": int(peak),
        "threshold": limit,
        "spike_bins": spike,
    }
    if spike:
        # (an answer with any rcode: a server that denies a flood's made-up names keeps up)
        q_in = sum(s.bins[b] for b in spike)
        a_in = sum(s.bins_responded.get(b, 0) for b in spike)
        q_out = sum(s.bins.values()) - q_in
        a_out = sum(s.bins_responded.values()) - a_in
        good_in = sum(s.bins_answered.get(b, 0) for b in spike)
        recs: list[int] = []
        for b in spike:
            if len(recs) < int(cfg["max_evidence"]):
                recs.extend(s.bin_records.get(b, []))
        hashed = s.bin_sources.sources(spike)
        names = np.asarray(sorted(s.clients), dtype=object)
        srcs = [str(n) for n in names[np.isin(_hash(names), hashed)]] if len(names) else []
        out.update(
            flood_queries=int(sum(s.bins_new[b] for b in spike)),
            sources=len(hashed),
            answered_in_spike=a_in / q_in if q_in else 0.0,
            answered_outside=a_out / q_out if q_out else 0.0,
            failed_in_spike=int(q_in - good_in),
            silent_in_spike=int(sum(s.bins_silent.get(b, 0) for b in spike)),
            top_sources=sorted(srcs)[:50],
            records=sorted(recs)[: int(cfg["max_evidence"])],
        )
    return out
