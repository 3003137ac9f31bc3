"""The diagnosis: the seed, every scenario in every rendering, generated failures, the
consistency of what it says, and evidence that adds up across parts of a capture."""

from __future__ import annotations

import itertools
import json
import re

import numpy as np
import pandas as pd
import pytest
from conftest import DATA, RENDERINGS, SEED_LOG, rendering_path, scenario_manifest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import incidentkit as ik
from incidentkit.icmp import ICMP_MEANINGS, KINDS
from incidentkit.rules import CAUSES, CONFIDENCE, RULES, confidence

SITE = "yummyrecipesforme.com"
EXPECTED_ADDRESS = "203.0.113.80"
MANIFEST = scenario_manifest()
_FRAMES: dict[tuple[str, str], pd.DataFrame] = {}


def frame(scenario: str, style: str) -> pd.DataFrame:
    if (scenario, style) not in _FRAMES:
        _FRAMES[(scenario, style)] = ik.read_tcpdump(rendering_path(scenario, style))
    return _FRAMES[(scenario, style)]


def test_seed_diagnosis():
    d = ik.diagnose(ik.read_tcpdump(SEED_LOG, date="2026-11-24"))
    assert (d.protocol, d.port, d.service, d.server) == ("udp", 53, "DNS", "203.0.113.2")
    assert (d.cause, d.confidence) == ("service_down", "likely")
    assert d.hypothesis("firewall").confidence == "possible"
    assert d.hypothesis("host_down").confidence == "ruled out"
    assert d.hypothesis("dos").confidence == "ruled out"
    assert d.hypothesis("none").confidence == "ruled out"
    assert d.evidence_records == [1, 2, 3, 4, 5, 6]
    assert d.facts["max_attempts"] == 3
    assert d.facts["retry_intervals_s"] == [120.0, 120.0]
    assert d.facts["latencies_s"] == [3.905993, 43.741555, 17.830396]
    assert "asked 3 times" in d.facts["retries"] and "120 s and 120 s apart" in d.facts["retries"]
    assert d.failure == "ICMP port unreachable from the server"
    assert d.cause_words.startswith("the DNS service on 203.0.113.2 is not running")
    assert d.caveats == []


# --------------------------------------------------------------------------- scenarios
@pytest.mark.parametrize("style", RENDERINGS)
@pytest.mark.parametrize("row", MANIFEST, ids=lambda r: r["scenario"])
def test_scenario_cause_and_consistency(row, style):
    df = frame(row["scenario"], style)
    d = ik.diagnose(df, domain=SITE, expected_address=EXPECTED_ADDRESS)
    assert d.cause == row["expected_cause"], d.summary
    assert d.confidence in ("certain", "likely"), d.summary
    if d.cause != "none":
        assert d.evidence_records, d.summary
        assert set(d.evidence_records) <= set(df["record"])
    check_consistent(d, df)


def check_consistent(d: ik.Diagnosis, df: pd.DataFrame) -> None:
    """The facts each sentence states, checked against the frame itself."""
    if d.server is None:
        return
    sent = int(((df["src"] == d.server).fillna(False) & (df["proto"] != "unparsed")).sum())
    answers = int(((df["src"] == d.server) & (df["dns_qr"] == "response")).fillna(False).sum())
    text = " ".join([d.summary, *(h.sentence for h in d.hypotheses), *d.caveats])
    if sent:
        assert f"{d.server} sent nothing" not in text, text
        assert d.hypothesis("host_down").confidence == "ruled out", text
    if answers:
        assert "never answered" not in text and "No DNS answer came from" not in text, text
    if not answers:
        assert "answered, but" not in text, text
    for h in d.hypotheses:
        if "server_sent" in h.claims:
            assert h.claims["server_sent"] == sent, (h.cause, h.sentence)
        if h.claims.get("answers") == 0:
            assert answers == 0, (h.cause, h.sentence)
        for n in re.findall(r"sent (\d+) packets? in this capture", h.sentence):
            assert int(n) == sent, h.sentence
    # no two hypotheses may both be certain, and the named cause is the strongest
    ranks = [list(CONFIDENCE).index(h.confidence) for h in d.hypotheses]
    assert ranks == sorted(ranks)
    assert sum(h.confidence == "certain" for h in d.hypotheses if h.cause != "none") <= 1


def test_every_scenario_kind_is_in_the_library():
    causes = {row["expected_cause"] for row in MANIFEST}
    assert set(CAUSES) <= causes


def test_reject_with_port_unreachable_names_the_firewall_as_the_alternative():
    d = ik.diagnose(frame("reject_port_unreachable", "n"))
    assert d.cause == "service_down"
    assert d.hypothesis("firewall").confidence == "possible"
    assert "REJECT" in d.hypothesis("firewall").sentence


def test_wrong_answer_needs_the_expected_address():
    df = frame("wrong_answer", "n")
    assert ik.diagnose(df).cause == "none"
    d = ik.diagnose(df, expected_address=EXPECTED_ADDRESS)
    assert d.cause == "misconfiguration"
    assert "198.51.100.66 instead of 203.0.113.80" in d.hypothesis("misconfiguration").sentence


def test_flood_threshold_is_a_parameter():
    df = frame("dos", "n")
    d = ik.diagnose(df)
    assert d.cause == "dos" and "distributed denial of service" in d.hypothesis("dos").sentence
    assert ik.diagnose(df, dos_threshold=10**6).cause == "none"
    with pytest.raises(TypeError, match="unknown thresholds"):
        ik.diagnose(df, dos_sources=3)


def test_empty_capture_is_inconclusive():
    d = ik.diagnose(ik.parse_tcpdump(""))
    assert d.cause == "inconclusive" and d.hypotheses == [] and d.evidence_records == []


def test_capture_without_dns_is_inconclusive():
    text = (
        "14:54:36.902024 ARP, Request who-has 198.51.100.1 tell 198.51.100.15, length 28\n"
        "14:54:36.902080 ARP, Reply 198.51.100.1 is-at 02:00:00:00:01:01, length 28\n"
    )
    d = ik.diagnose(ik.parse_tcpdump(text))
    assert d.cause == "inconclusive"
    assert "no DNS query" in d.summary


def test_several_servers_are_each_judged():
    healthy = rendering_path("healthy", "n").read_text().replace("203.0.113.2", "203.0.113.3")
    broken = rendering_path("service_down", "n").read_text()
    df = ik.parse_tcpdump(healthy + broken)
    d = ik.diagnose(df)
    judged = {(j.server, j.protocol): j.cause for j in d.servers}
    assert judged == {
        ("203.0.113.3", "udp"): "none",
        ("203.0.113.3", "tcp"): "none",
        ("203.0.113.2", "udp"): "service_down",
    }
    assert d.server == "203.0.113.2" and d.cause == "service_down"
    assert ik.diagnose(df, server="203.0.113.3").cause == "none"
    assert ik.diagnose(df, server="192.0.2.99").cause == "inconclusive"


def test_responses_without_names_still_pair():
    df = frame("nxdomain", "n")
    response = df[df["dns_qr"] == "response"]
    assert response["dns_qname"].isna().all()
    assert ik.diagnose(df, domain=SITE).cause == "misconfiguration"


def test_to_dict_is_json_ready_and_carries_the_evidence():
    d = ik.diagnose(ik.read_tcpdump(SEED_LOG, date="2026-11-24"))
    data = json.loads(json.dumps(d.to_dict()))
    assert data["cause"] == "service_down" and data["confidence"] == "likely"
    assert data["facts"]["first_query"] == "2026-11-24T13:24:32.192571"
    assert data["hypotheses"][0]["records"] == [1, 2, 3, 4, 5, 6]
    assert data["hypotheses"][0]["signs"][0]["name"] == "port unreachable from the server itself"
    assert {h["cause"] for h in data["hypotheses"]} == set(CAUSES)
    (server,) = data["evidence"]["servers"]
    assert server["icmp"] == [
        {"kind": "port", "reason": "port unreachable", "sender": "server", "count": 3}
    ]
    assert server["server_sent"] == 3


# --------------------------------------------------------------------------- ICMP table
def test_every_destination_unreachable_code_has_a_meaning():
    v4 = {code for (family, kind, code) in ICMP_MEANINGS if family == "icmp" and kind == 3}
    v6 = {code for (family, kind, code) in ICMP_MEANINGS if family == "icmp6" and kind == 1}
    assert v4 == set(range(16)) and v6 == set(range(8))
    kinds = {m.kind for m in ICMP_MEANINGS.values()}
    assert kinds == {"port", "host", "route", "filter", "path"}
    for m in ICMP_MEANINGS.values():
        assert KINDS[m.reason] == m.kind


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        ("ICMP host 203.0.113.2 unreachable - admin prohibited filter", "firewall"),
        ("ICMP host 203.0.113.2 unreachable - admin prohibited", "firewall"),
        ("ICMP net 203.0.113.2 unreachable - admin prohibited", "firewall"),
        ("ICMP host 203.0.113.2 unreachable", "host_down"),
        ("ICMP net 203.0.113.2 unreachable", "host_down"),
        ("ICMP 203.0.113.2 udp port 53 unreachable", "service_down"),
    ],
)
def test_icmp_codes_from_a_router_say_what_they_mean(text, cause):
    lines = []
    for i in range(3):
        lines.append(_query(2 * i, "198.51.100.15", 40000 + i, i + 1, "x.example"))
        sender = "203.0.113.2" if "port 53" in text else "198.51.100.1"
        lines.append(f"{_t(2 * i + 0.001)} IP {sender} > 198.51.100.15: {text}, length 63")
    d = ik.diagnose(ik.parse_tcpdump("\n".join(lines) + "\n"))
    assert d.cause == cause, d.summary


def test_port_unreachable_from_a_hop_is_a_filter():
    lines = []
    for i in range(3):
        lines.append(_query(i, "198.51.100.15", 40000 + i, i + 1, "x.example"))
        lines.append(
            f"{_t(i + 0.001)} IP 198.51.100.1 > 198.51.100.15: ICMP 203.0.113.2 udp port 53 "
            "unreachable, length 63"
        )
    d = ik.diagnose(ik.parse_tcpdump("\n".join(lines) + "\n"))
    assert (d.cause, d.confidence) == ("firewall", "certain"), d.summary
    assert d.hypothesis("service_down").confidence == "ruled out"


@given(st.lists(st.integers(1, 10**6), max_size=40).map(sorted), st.integers(0, 10**6))
def test_the_baseline_is_the_25th_percentile_of_every_interval(counts, zeros):
    from incidentkit.rules import _quartile

    every = np.concatenate([np.zeros(zeros, dtype=np.int64), np.array(counts, dtype=np.int64)])
    want = float(np.percentile(every, 25)) if len(every) else 0.0
    assert _quartile(np.array(counts, dtype=np.int64), zeros=zeros) == pytest.approx(want)


def test_confidence_words_follow_from_their_quantities():
    sign = ik.diagnose(ik.read_tcpdump(SEED_LOG)).hypothesis("service_down").signs[0]
    conclusive = type(sign)("x", 1, True)
    assert confidence(0.0, []) == "ruled out"
    assert confidence(1.0, []) == "possible"
    assert confidence(0.6, [sign]) == "likely"
    assert confidence(1.0, [sign]) == "likely"
    assert confidence(1.0, [sign, sign]) == "certain"
    assert confidence(0.95, [conclusive]) == "certain"
    assert confidence(0.95, [conclusive], minority=True) == "possible"
    assert list(RULES) == list(CAUSES)


# --------------------------------------------------------------------------- generated logs
def _query(
    t: float, client: str, port: int, qid: int, name: str = "www.example.com", qtype: str = "A"
) -> str:
    return f"{_t(t)} IP {client}.{port} > 203.0.113.2.53: {qid}+ {qtype}? {name}. (33)"


def _answer(t: float, client: str, port: int, qid: int) -> str:
    return f"{_t(t)} IP 203.0.113.2.53 > {client}.{port}: {qid}* 1/0/0 A 203.0.113.80 (49)"


def _unreach(t: float, client: str) -> str:
    return f"{_t(t)} IP 203.0.113.2 > {client}: ICMP 203.0.113.2 udp port 53 unreachable, length 61"


def _t(t: float) -> str:
    """10:MM:SS.uuuuuu for ``t`` seconds after 10:00 (rounded to the microsecond)."""
    whole, micro = divmod(round(t * 1e6), 1_000_000)
    return f"10:{whole // 60 % 60:02d}:{whole % 60:02d}.{micro:06d}"


def _log(lines: list[tuple[float, str]]) -> pd.DataFrame:
    return ik.parse_tcpdump("\n".join(text for _, text in sorted(lines)) + "\n")


def test_many_clients_retrying_a_dead_server_are_no_flood():
    lines = []
    for c in range(60):
        client = f"198.51.100.{c + 100}"
        for attempt in range(4):
            t = 5 + c * 0.01 + attempt * 0.3
            lines.append((t, _query(t, client, 40000, c + 1)))
            lines.append((t + 0.001, _unreach(t + 0.001, client)))
    lines += [
        (1.0, _query(1.0, "198.51.100.15", 5000, 999)),
        (1.01, _unreach(1.01, "198.51.100.15")),
    ]
    lines += [
        (30.0, _query(30.0, "198.51.100.15", 5001, 998)),
        (30.01, _unreach(30.01, "198.51.100.15")),
    ]
    d = ik.diagnose(_log(lines))
    assert d.cause == "service_down", d.summary
    dos = d.hypothesis("dos")
    assert dos.confidence == "ruled out" and "retries" in dos.sentence


def test_a_flood_from_one_source_is_a_denial_of_service():
    lines = []
    for i in range(3000):
        t = 10 + i / 3000
        lines.append((t, _query(t, "198.51.100.15", 40000, i % 500)))
        lines.append((t + 0.0001, _answer(t + 0.0001, "198.51.100.15", 40000, i % 500)))
    for k in range(5):
        t = 2 + 5 * k
        lines.append((t, _query(t, "198.51.100.20", 6000 + k, 7, "yummyrecipesforme.com")))
        lines.append((t + 0.01, _answer(t + 0.01, "198.51.100.20", 6000 + k, 7)))
    d = ik.diagnose(_log(lines))
    assert (d.cause, d.confidence) == ("dos", "certain"), d.summary
    sentence = d.hypothesis("dos").sentence
    assert "a denial of service" in sentence and "distributed" not in sentence
    # ids repeat among the flood's queries; each answer pairs first in, first out
    assert d.facts["outcomes"]["no_response"] == 0


def test_a_healthy_capture_with_one_query_type_unanswered_is_none_with_a_caveat():
    lines = []
    for k in range(3):
        t = 1 + 2 * k
        lines.append((t, _query(t, "198.51.100.15", 5000 + k, 10 + k)))
        lines.append((t + 0.01, _answer(t + 0.01, "198.51.100.15", 5000 + k, 10 + k)))
    lines.append((8.0, _query(8.0, "198.51.100.15", 5009, 20, qtype="AAAA")))
    d = ik.diagnose(_log(lines))
    assert d.cause == "none", d.summary
    assert d.hypothesis("firewall").confidence == "possible"
    assert any("25%" in c and "no response" in c for c in d.caveats), d.caveats
    assert "never answered" not in " ".join(h.sentence for h in d.hypotheses)


# --------------------------------------------------------------------------- adding up
def _same(a: ik.Diagnosis, b: ik.Diagnosis) -> None:
    assert (a.cause, a.confidence, a.server, a.port, a.protocol) == (
        b.cause,
        b.confidence,
        b.server,
        b.port,
        b.protocol,
    )
    assert [(h.cause, h.confidence, h.explains, h.sentence) for h in a.hypotheses] == [
        (h.cause, h.confidence, h.explains, h.sentence) for h in b.hypotheses
    ]
    for key in ("outcomes", "queries", "max_attempts", "retry_intervals_s", "latencies_s"):
        assert a.facts.get(key) == b.facts.get(key), key
    assert a.evidence == b.evidence


SPLITTABLE = [
    (row["scenario"], style)
    for row in MANIFEST
    for style in ("n", "v")
    if rendering_path(row["scenario"], style).suffix != ".gz"
]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SPLITTABLE), st.sampled_from(["5min", "2s"]), st.data())
def test_evidence_of_two_parts_adds_up_to_the_whole(case, window, data):
    df = frame(*case)
    cut = data.draw(st.integers(0, len(df)))
    kw = {"reply_window": window, "retry_window": window}
    opts = {"domain": SITE, "expected_address": EXPECTED_ADDRESS}
    whole = ik.diagnose(df, **opts, **kw)
    s = ik.evidence(df.iloc[:cut], **opts, **kw) + ik.evidence(df.iloc[cut:], **opts, **kw)
    _same(ik.diagnose(s), whole)


EVENTS = st.lists(
    st.tuples(
        st.sampled_from(["query", "answer", "unreach", "ping"]),
        st.sampled_from(["198.51.100.15", "198.51.100.16"]),
        st.integers(0, 3),  # client port offset
        st.integers(1, 4),  # DNS id
        st.floats(0.01, 4.0),  # seconds since the previous packet
    ),
    min_size=1,
    max_size=60,
)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(EVENTS, st.lists(st.integers(0, 60), max_size=3))
def test_generated_logs_cut_anywhere_add_up(events, cuts):
    lines, t = [], 0.0
    for kind, client, port, qid, gap in events:
        t += gap
        if kind == "query":
            lines.append(_query(t, client, 40000 + port, qid))
        elif kind == "answer":
            lines.append(_answer(t, client, 40000 + port, qid))
        elif kind == "unreach":
            lines.append(_unreach(t, client))
        else:
            lines.append(
                f"{_t(t)} IP 203.0.113.2 > {client}: ICMP echo reply, id 1, seq 1, length 64"
            )
    df = ik.parse_tcpdump("\n".join(lines) + "\n")
    kw = {"reply_window": "3s", "retry_window": "3s"}
    whole = ik.diagnose(df, **kw)
    bounds = sorted({0, len(df), *(min(c, len(df)) for c in cuts)})
    parts = [ik.evidence(df.iloc[a:b], **kw) for a, b in itertools.pairwise(bounds)]
    total = parts[0]
    for p in parts[1:]:
        total = total + p
    _same(ik.diagnose(total), whole)


@pytest.mark.parametrize("scenario", ["host_down", "firewall_reject"])
def test_evidence_of_one_row_parts_adds_up_to_the_whole(scenario):
    # every part shorter than the windows: each pairing reaches across many seams
    df = frame(scenario, "nn-tttt")
    opts = {"domain": SITE, "expected_address": EXPECTED_ADDRESS}
    parts = [ik.evidence(df.iloc[i : i + 1], **opts) for i in range(len(df))]
    total = parts[0]
    for p in parts[1:]:
        total = total + p
    _same(ik.diagnose(total), ik.diagnose(df, **opts))


def test_evidence_with_other_settings_does_not_add_up():
    df = frame("healthy", "n")
    with pytest.raises(ValueError, match="different settings"):
        ik.evidence(df, reply_window="1s") + ik.evidence(df)


def test_rows_without_a_time_count_once_wherever_the_cut_falls():
    lines = []
    for k in range(12):
        t = 3.0 * k
        lines.append(_query(t, "198.51.100.15", 5000 + k, k + 1, f"h{k}.example.com"))
        if k % 3:
            lines.append(_answer(t + 0.05, "198.51.100.15", 5000 + k, k + 1))
    df = ik.parse_tcpdump("\n".join(lines) + "\n")
    # two unanswered queries lose their time (a time out of range reads as NaT); such a
    # row is counted in its own part, and pairs or repeats a question only there
    df.loc[[5, 10], "time"] = pd.NaT
    assert (df.loc[[5, 10], "dns_qr"] == "query").all()
    kw = {"reply_window": "2s", "retry_window": "2s"}
    whole = ik.diagnose(df, **kw)
    assert whole.facts["queries"] == 12
    for cut in range(len(df) + 1):
        total = ik.evidence(df.iloc[:cut], **kw) + ik.evidence(df.iloc[cut:], **kw)
        _same(ik.diagnose(total), whole)


def test_an_answer_whose_query_came_before_the_capture_is_no_wrong_id():
    """A capture that starts between a query and its answer holds an answer that pairs
    with no query; with one query lost later, that is no server answering with the wrong
    DNS id: the answer is on other ports, so no misconfiguration is found."""
    lines = [(0.0, _answer(0.0, "198.51.100.15", 40000, 7))]
    for k in range(1, 6):
        t = 2.0 * k
        lines.append((t, _query(t, "198.51.100.15", 40000 + k, k)))
        if k != 3:
            lines.append((t + 0.01, _answer(t + 0.01, "198.51.100.15", 40000 + k, k)))
    d = ik.diagnose(_log(lines))
    assert d.cause == "none"
    assert {h.cause: h.confidence for h in d.hypotheses}["misconfiguration"] == "ruled out"


def test_answers_with_another_dns_id_on_the_querys_ports_are_a_misconfiguration():
    """Every answer comes from the server to the query's client and ports, but with the DNS
    id plus one: the clients ignore them. The server is up and answering wrongly, whether
    the evidence is taken whole or in two parts cut anywhere."""
    lines = []
    for k in range(1, 5):
        t = 2.0 * k
        lines.append((t, _query(t, "198.51.100.15", 40000 + k, k)))
        lines.append((t + 0.01, _answer(t + 0.01, "198.51.100.15", 40000 + k, k + 1)))
    # an answer on ports no query used answers nothing, and is no answer with a wrong id
    lines.append((9.5, _answer(9.5, "198.51.100.15", 41000, 99)))

    df = _log(lines)
    d = ik.diagnose(df)
    assert (d.cause, d.confidence) == ("misconfiguration", "certain")
    assert "another DNS id" in d.hypotheses[0].sentence
    wrong = df.loc[(df["dns_qr"] == "response") & (df["dport"] != 41000), "record"]
    assert d.hypotheses[0].records == wrong.tolist()  # the four answers, and only those
    for cut in range(len(df) + 1):
        parts = ik.evidence(df.iloc[:cut], reply_window="1s", retry_window="1s")
        parts = parts + ik.evidence(df.iloc[cut:], reply_window="1s", retry_window="1s")
        whole = ik.diagnose(df, reply_window="1s", retry_window="1s")
        _same(ik.diagnose(parts), whole)


# ----------------------------------------------------------------- names that do not exist
def _nx(t: float, client: str, port: int, qid: int) -> str:
    return f"{_t(t)} IP 203.0.113.2.53 > {client}.{port}: {qid} NXDomain* 0/1/0 (90)"


def _random_names(count: int, *, site_found: bool, per_name: int = 1, zone: str = "example.com"):
    """Lookups of www.ZONE (answered when ``site_found``, else NXDomain) every second, and
    ``count`` names under ZONE asked ``per_name`` times each from ten addresses, denied."""
    lines, qid = [], 0
    for k in range(6):
        qid += 1
        t = 1.0 * k
        lines.append((t, _query(t, "198.51.100.15", 30000 + k, qid, f"www.{zone}")))
        reply = _answer if site_found else _nx
        lines.append((t + 0.001, reply(t + 0.001, "198.51.100.15", 30000 + k, qid)))
    for i in range(count):
        for r in range(per_name):
            qid += 1
            t = 0.5 + 5.0 * (i * per_name + r) / (count * per_name)
            client, port = f"198.51.100.{100 + i % 10}", 40000 + qid
            name = f"q{i:04d}x7k.{zone}" if i % 2 else f"Q{i:04d}X7K.{zone.upper()}"  # (0x20)
            lines.append((t, _query(t, client, port, qid, name)))
            lines.append((t + 0.002, _nx(t + 0.002, client, port, qid)))
    return _log(lines)


@pytest.mark.parametrize("domain", [None, "example.com"])
def test_names_that_do_not_exist_in_a_zone_that_answers_are_no_misconfiguration(domain):
    """Random names under the site (each asked once, from many addresses, written in any
    case) denied while the site's own name is answered: the server answered them as it
    should. DNS worked, and the dos hypothesis names the pattern, below the flood rate."""
    df = _random_names(40, site_found=True)
    d = ik.diagnose(df, domain=domain)
    assert (d.cause, d.confidence) == ("none", "certain"), d.summary
    judged = {h.cause: h for h in d.hypotheses}
    assert judged["misconfiguration"].confidence == "ruled out"
    assert "40 NXDomain answers denied names that do not exist" in (
        judged["misconfiguration"].sentence
    )
    dos = judged["dos"]
    assert dos.confidence == "possible"
    assert "40 queries asked for 40 names under example.com that do not exist" in dos.sentence
    assert "below the rate of a flood" in dos.sentence
    assert dos.claims == {"made_up_queries": 40, "made_up_names": 40}
    assert not any("NXDomain" in c for c in d.caveats), d.caveats


def test_a_zone_the_server_does_not_have_stays_a_misconfiguration():
    """The same random names, but the site's own name is denied too: no name under the zone
    is answered, so the zone is missing, whatever the names look like."""
    d = ik.diagnose(_random_names(40, site_found=False), domain="example.com")
    assert (d.cause, d.confidence) == ("misconfiguration", "certain"), d.summary
    assert "46 NXDomain for the site" in d.hypotheses[0].sentence


@pytest.mark.parametrize(("count", "per_name"), [(9, 1), (12, 3)])
def test_names_users_ask_again_or_a_few_missing_names_are_a_misconfiguration(count, per_name):
    """Fewer names than the threshold (a few records missing from a zone that works), or
    names each asked three times (names clients need): NXDomain is a fault of the zone."""
    df = _random_names(count, site_found=True, per_name=per_name)
    d = ik.diagnose(df, domain="example.com")
    assert d.cause == "misconfiguration", d.summary
    assert f"{count * per_name} NXDomain for the site" in d.hypotheses[0].sentence
    fewer = ik.diagnose(_random_names(count, site_found=True), made_up_min_names=count + 1)
    assert fewer.cause == "misconfiguration"


def test_a_flood_of_names_that_do_not_exist_is_answered_during_the_spike():
    """At the flood rate, the denied names are a flood the server kept up with: every query
    got an answer (NXDomain), so no 'answers stopped' sign, and the words say so."""
    d = ik.diagnose(_random_names(40, site_found=True), dos_threshold=5)
    assert (d.cause, d.confidence) == ("dos", "certain"), d.summary
    dos = d.hypotheses[0]
    assert "random-subdomain" in dos.sentence
    assert [s.name for s in dos.signs if "stopped" in s.name] == []
    assert "During the spike" not in dos.sentence


def test_names_that_do_not_exist_add_up_across_parts():
    df = _random_names(12, site_found=True)
    whole = ik.diagnose(df)
    assert whole.cause == "none"
    for cut in range(0, len(df) + 1, 3):
        parts = ik.evidence(df.iloc[:cut]) + ik.evidence(df.iloc[cut:])
        _same(ik.diagnose(parts), whole)


# --------------------------------------------------------------------------- outages
def _lookups(failing: set[int], how: str = "unreach", n: int = 10) -> pd.DataFrame:
    """``n`` lookups 0.4 s apart; those in ``failing`` draw port unreachable from the
    server (``unreach``) or nothing (``silent``), the others an answer."""
    lines = []
    for k in range(n):
        t = 0.4 * k
        lines.append((t, _query(t, "198.51.100.15", 40000 + k, k + 1)))
        if k not in failing:
            lines.append((t + 0.001, _answer(t + 0.001, "198.51.100.15", 40000 + k, k + 1)))
        elif how == "unreach":
            lines.append((t + 0.001, _unreach(t + 0.001, "198.51.100.15")))
        elif how == "servfail":
            reply = f"{_t(t + 0.001)} IP 203.0.113.2.53 > 198.51.100.15.{40000 + k}: {k + 1} "
            lines.append((t + 0.001, reply + "ServFail 0/0/0 (33)"))
    return _log(lines)


def test_failures_back_to_back_amid_answers_are_an_outage():
    """The service stopped and came back within the capture: three lookups in a row drew
    port unreachable from the server, answered before and after. That is the service being
    down for a while, not a caveat of a working one."""
    d = ik.diagnose(_lookups({4, 5, 6}))
    assert (d.cause, d.confidence) == ("service_down", "likely"), d.summary
    said = d.hypotheses[0].sentence
    # (from the first failed query to the end of the tenth of a second of the last one)
    assert "the service stopped for about 0.9 s (10:00:01.6 to 10:00:02.5)" in said, said
    assert "answered before and after it" in said
    judged = {h.cause: h.confidence for h in d.hypotheses}
    assert judged["none"] == "possible" and judged["firewall"] == "possible"
    assert any(c.startswith("All 3 failures came within about 0.9 s") for c in d.caveats)


def test_scattered_failures_are_no_outage():
    """The same three failures spread among the answers: no stretch without an answer, so
    they stay a minority (caveats), as loss or a partial failure is."""
    d = ik.diagnose(_lookups({2, 5, 8}))
    assert (d.cause, d.confidence) == ("none", "likely"), d.summary
    assert not any("outage" in c for c in d.caveats)
    assert {h.cause: h.confidence for h in d.hypotheses}["service_down"] == "possible"


def test_an_outage_at_the_end_and_a_threshold():
    """Answers before the failures only (the capture ends in the outage) still make one;
    with outage_min_failures above the failures, it is a minority again."""
    d = ik.diagnose(_lookups({7, 8, 9}))
    assert d.cause == "service_down", d.summary
    assert "answered before it: it stopped, and had not come back when the capture ended" in (
        d.hypotheses[0].sentence
    )
    later = ik.diagnose(_lookups({0, 1, 2}))
    assert later.cause == "service_down", later.summary
    assert "answered after it: it was down when the capture began, and came back" in (
        later.hypotheses[0].sentence
    )
    assert ik.diagnose(_lookups({7, 8, 9}), outage_min_failures=4).cause == "none"


def test_a_silent_outage_is_a_filter_or_path_for_a_while():
    d = ik.diagnose(_lookups({3, 4, 5, 6}, how="silent"))
    assert d.cause == "firewall", d.summary
    said = d.hypotheses[0].sentence
    assert "for about 1.3 s (10:00:01.2 to 10:00:02.5)" in said, said
    assert "a rule put in and taken out, or a path that failed for a while" in said


@pytest.mark.parametrize("failing", [{4, 5, 6}, {2, 5, 8}])
def test_outages_add_up_across_parts(failing):
    df = _lookups(failing)
    whole = ik.diagnose(df)
    for cut in range(len(df) + 1):
        _same(ik.diagnose(ik.evidence(df.iloc[:cut]) + ik.evidence(df.iloc[cut:])), whole)


# --------------------------------------------------------------------------- answers not taken
def _asked_again(same_id: bool) -> pd.DataFrame:
    """A question answered three times, asked again 1 s after each answer: with the same
    DNS id (the client's resolver did not take the answer) or a new one (a new lookup)."""
    lines = []
    for k in range(3):
        t, qid = 1.0 * k, 7 if same_id else 7 + k
        lines.append((t, _query(t, "198.51.100.15", 40000 + k, qid)))
        lines.append((t + 0.001, _answer(t + 0.001, "198.51.100.15", 40000 + k, qid)))
    return _log(lines)


def test_answers_asked_again_with_the_same_id_are_a_caveat():
    d = ik.diagnose(_asked_again(same_id=True))
    assert (d.cause, d.confidence) == ("none", "certain"), d.summary
    said = [c for c in d.caveats if "sent again with the same DNS id" in c]
    assert said and said[0].startswith("2 answered queries were sent again"), d.caveats
    assert "a fragmented answer did not arrive whole" in said[0]
    df = _asked_again(same_id=True)
    for cut in range(len(df) + 1):
        parts = ik.diagnose(ik.evidence(df.iloc[:cut]) + ik.evidence(df.iloc[cut:]))
        _same(parts, d)
        assert parts.caveats == d.caveats


def test_new_lookups_of_an_answered_name_are_no_caveat():
    d = ik.diagnose(_asked_again(same_id=False))
    assert (d.cause, d.confidence, d.caveats) == ("none", "certain", []), d.summary


def test_an_outage_replaces_the_minority_caveats_only():
    """Three ServFail answers in a row: the outage caveat says when; the answers that were
    errors are still said, as in any capture (the outage stands for the caveats of
    scattered silence and port unreachable, not for the others)."""
    d = ik.diagnose(_lookups({4, 5, 6}, how="servfail"))
    assert d.cause == "misconfiguration", d.summary
    assert [c.split(" within")[0] for c in d.caveats] == [
        "All 3 failures came",
        "Some answers were errors (3 ServFail).",
    ]


@pytest.mark.parametrize(
    ("capture", "said"),
    [
        # answers came, but with other DNS ids, or from another address: not "no response"
        (
            "cases/wrong_dns_id.pcap",
            "port 53: no matching response (the server answered with other DNS ids).",
        ),
        (
            "scenarios/wrong_source.pcap",
            "port 53: no response from the server (answers came from 203.0.113.3).",
        ),
        # a few failures among answers lead as such, not as the outcome
        ("cases/loss30_random.pcap", "port 53: answered, but 4 of 12 met no response."),
        # no cause fits: what the queries met is still said
        (
            "cases/ttl1.pcap",
            "the queries met ICMP ttl exceeded in transit from 198.51.100.1; no cause",
        ),
        # one query answered is one
        ("scenarios/healthy.pcap", "1 of 1 query to 203.0.113.2 port 53 was answered"),
    ],
)
def test_the_summary_says_what_the_queries_met(capture, said):
    d = ik.diagnose(ik.read(DATA / capture))
    assert said in d.summary, d.summary
