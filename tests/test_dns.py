"""DNS transactions: queries paired with answers, ICMP errors or silence."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from conftest import SEED_LOG, rendering_path, scenario_manifest
from hypothesis import given, settings
from hypothesis import strategies as st

import incidentkit as ik
from incidentkit import dns


def test_seed_is_one_question_asked_three_times():
    t = ik.dns_transactions(ik.read_tcpdump(SEED_LOG, date="2026-11-24"))
    assert t["attempt"].tolist() == [1, 2, 3]
    assert t["question"].nunique() == 1
    assert t["outcome"].tolist() == ["icmp_error"] * 3
    assert t["outcome_record"].tolist() == [2, 4, 6]
    assert [round(v.total_seconds(), 6) for v in t["latency"]] == [3.905993, 43.741555, 17.830396]
    assert t["records"].tolist() == [[1, 2], [3, 4], [5, 6]]
    assert set(t["icmp_sender"]) == {"203.0.113.2"}


@pytest.mark.parametrize("style", ["default", "n", "nn-tttt", "v"])
def test_every_query_counted_once(style):
    for row in scenario_manifest():
        df = ik.read_tcpdump(rendering_path(row["scenario"], style))
        t = ik.dns_transactions(df)
        assert len(t) == int(row["dns_queries"])
        answered = t["outcome"].isin(["answered", "error"]).sum()
        # every response answers a query, but one from an address nobody asked
        responses = df.loc[df["dns_qr"] == "response"]
        strangers = (~responses["src"].isin(set(t["server"]))).sum()
        assert answered == int(row["dns_responses"]) - strangers, row["scenario"]
        assert strangers == (3 if row["scenario"] == "wrong_source" else 0)


def test_outcomes_per_scenario():
    def outcomes(name: str, style: str = "n") -> dict[str, int]:
        t = ik.dns_transactions(ik.read_tcpdump(rendering_path(name, style)))
        return t["outcome"].value_counts().to_dict()

    assert outcomes("healthy") == {"answered": 2}
    assert outcomes("service_down") == {"icmp_error": 3}
    assert outcomes("firewall_drop") == {"no_response": 3}
    assert outcomes("refused") == {"error": 1}
    # the router held two queries while it looked for the server, then refused both
    for style in ("n", "v"):
        assert outcomes("host_down", style) == {"icmp_error": 3}


def test_verbose_pairs_exactly_by_the_quoted_query():
    df = ik.read_tcpdump(rendering_path("host_down", "v"))
    t = ik.dns_transactions(df)
    errors = df.set_index("record").loc[t["outcome_record"].astype(int)]
    assert errors["icmp_orig_sport"].tolist() == t["client_port"].tolist()
    assert errors["icmp_orig_dns_id"].tolist() == t["dns_id"].tolist()


def test_errors_that_quote_whole_queries_pair_with_the_oldest_query_they_quote():
    """Errors quoting their queries (client, port and DNS id: read_pcap always has them)
    come out of order; each pairs with the oldest query waiting that it quotes."""
    import random

    from pcapgen import checksum, dns_query, ether, ipv4, pcap, udp

    rng = random.Random(53)
    server, router = "203.0.113.2", "192.0.2.1"
    queries = []  # (client, port, dns id), in the order sent: every key two or three times
    for client in ("198.51.100.15", "198.51.100.16"):
        for port in (40000, 40001, 40002):
            for ident in (1, 2):
                queries.extend([(client, port, ident)] * rng.choice((2, 3)))
    rng.shuffle(queries)
    quoted = rng.sample(queries, len(queries) * 2 // 3)  # (errors for two thirds of them)

    def error_for(client: str, port: int, ident: int) -> bytes:
        """An ICMP port unreachable that quotes the query whole."""
        query = dns_query(ident, "a.example")
        body = ipv4(client, server, 17, udp(client, server, port, 53, query))
        bare = bytes([3, 3, 0, 0, 0, 0, 0, 0]) + body
        return ether(
            ipv4(router, client, 1, bare[:2] + checksum(bare).to_bytes(2, "big") + bare[4:])
        )

    frames = [
        ether(ipv4(c, server, 17, udp(c, server, p, 53, dns_query(i, "a.example"))))
        for c, p, i in queries
    ]
    frames += [error_for(*key) for key in quoted]
    df = ik.read_pcap(io.BytesIO(pcap(frames, step=0.01)))
    t = ik.dns_transactions(df).set_index("query_record")
    # the oracle: each error, in order, takes the oldest query of its key not yet taken
    expected: dict[int, int] = {}
    for k, key in enumerate(quoted):
        first = next(i for i, q in enumerate(queries) if q == key and i + 1 not in expected)
        expected[first + 1] = len(queries) + k + 1
    got = t.loc[t["outcome"] == "icmp_error", "outcome_record"].astype(int).to_dict()
    assert got == expected
    assert (t.drop(index=list(expected))["outcome"] == "no_response").all()
    # errors that quote only queries the capture does not hold pair with none it holds
    strangers = [error_for("198.51.100.15", 41000, 9)] * 2
    t = ik.dns_transactions(ik.read_pcap(io.BytesIO(pcap(frames[:3] + strangers))))
    assert t["outcome"].tolist() == ["no_response"] * 3


def test_answers_and_addresses():
    t = ik.dns_transactions(ik.read_tcpdump(rendering_path("wrong_answer", "v")))
    assert t.loc[0, "answers"] == "yummyrecipesforme.com. A 198.51.100.66"
    assert t.loc[0, "addresses"] == ["198.51.100.66"]
    assert t.loc[0, "rcode"] == "NoError"


def test_dns_over_tcp_pairs_too():
    t = ik.dns_transactions(ik.read_tcpdump(rendering_path("healthy", "n")))
    assert t["proto"].tolist() == ["udp", "tcp"]
    assert (t["outcome"] == "answered").all()


QUERY = "{t} IP 198.51.100.15.{p} > 203.0.113.2.53: {i}+ A? yummyrecipesforme.com. (39)"
ANSWER = "{t} IP 203.0.113.2.53 > 198.51.100.15.{p}: {i}* 1/0/0 A 203.0.113.80 (55)"


def test_an_answer_goes_to_the_earliest_query_still_waiting():
    # a retransmission with the same port and id: the answer is the first query's (first
    # in, first out), and a second answer is the retransmission's
    lines = [
        QUERY.format(t="10:00:00.000000", p=40000, i=7),
        QUERY.format(t="10:00:02.000000", p=40000, i=7),
        ANSWER.format(t="10:00:02.100000", p=40000, i=7),
    ]
    t = ik.dns_transactions(ik.parse_tcpdump("\n".join(lines)))
    assert t["outcome"].tolist() == ["answered", "no_response"]
    assert t["attempt"].tolist() == [1, 2]
    assert t.loc[0, "latency"] == pd.Timedelta(milliseconds=2100)
    lines.append(ANSWER.format(t="10:00:02.200000", p=40000, i=7))
    t = ik.dns_transactions(ik.parse_tcpdump("\n".join(lines)))
    assert t["outcome"].tolist() == ["answered", "answered"]
    assert t["outcome_record"].tolist() == [3, 4]


def test_a_query_past_the_reply_window_leaves_the_queue():
    lines = [
        QUERY.format(t="10:00:00.000000", p=40000, i=7),
        QUERY.format(t="10:09:00.000000", p=40000, i=7),
        ANSWER.format(t="10:09:00.500000", p=40000, i=7),
    ]
    t = ik.dns_transactions(ik.parse_tcpdump("\n".join(lines)))
    assert t["outcome"].tolist() == ["no_response", "answered"]
    assert t.loc[1, "latency"] == pd.Timedelta(milliseconds=500)


def test_retry_window_splits_questions():
    text = "\n".join(
        [
            QUERY.format(t="10:00:00.000000", p=40000, i=7),
            QUERY.format(t="10:04:00.000000", p=40001, i=8),
            QUERY.format(t="10:20:00.000000", p=40002, i=9),
        ]
    )
    t = ik.dns_transactions(ik.parse_tcpdump(text))
    assert t["attempt"].tolist() == [1, 2, 1]
    assert t["question"].tolist() == [1, 1, 2]
    t = ik.dns_transactions(ik.parse_tcpdump(text), retry_window="1min")
    assert t["attempt"].tolist() == [1, 1, 1]


def test_a_late_answer_outside_the_window_is_silence():
    text = "\n".join(
        [
            QUERY.format(t="10:00:00.000000", p=40000, i=7),
            ANSWER.format(t="10:09:00.000000", p=40000, i=7),
        ]
    )
    assert ik.dns_transactions(ik.parse_tcpdump(text))["outcome"].tolist() == ["no_response"]
    late = ik.dns_transactions(ik.parse_tcpdump(text), reply_window="10min")
    assert late["outcome"].tolist() == ["answered"]


def test_empty_and_dnsless_captures():
    assert len(ik.dns_transactions(ik.parse_tcpdump(""))) == 0
    arp = "14:54:36.902024 ARP, Request who-has 198.51.100.1 tell 198.51.100.15, length 28"
    t = ik.dns_transactions(ik.parse_tcpdump(arp))
    assert len(t) == 0 and "outcome" in t.columns


# --------------------------------------------------------------------------- ICMP pairing
# dns_transactions pairs an error that does not quote the query's id with a queue walk;
# these tests hold it to the rule written out plainly: each error, in order, takes the
# oldest query from the host it was sent to, to the quoted address (and port, when
# quoted), sent before it, neither answered before it nor taken, within the window.
CLIENTS = ("192.0.2.1", "192.0.2.7")
SERVERS = ("203.0.113.2", "203.0.113.9")
EVENTS = st.lists(
    st.tuples(
        st.sampled_from(["query", "answer", "port", "port5353", "host"]),
        st.sampled_from(CLIENTS),
        st.sampled_from(SERVERS),
        st.integers(1, 90),  # seconds since the previous packet
    ),
    min_size=1,
    max_size=40,
)


def _log(events) -> str:
    lines, now, ids = [], 0, 0
    for kind, client, server, gap in events:
        now += gap
        t = f"13:{now // 60 % 60:02d}:{now % 60:02d}.000000"
        if kind == "query":
            ids += 1
            lines.append(f"{t} IP {client}.40000 > {server}.53: {ids}+ A? x.example. (30)")
        elif kind == "answer":  # answers the client's latest query to that server
            lines.append(f"{t} IP {server}.53 > {client}.40000: {ids} 1/0/0 A 192.0.2.99 (46)")
        elif kind == "host":
            lines.append(
                f"{t} IP 198.51.100.1 > {client}: ICMP host {server} unreachable, length 66"
            )
        else:
            port = 5353 if kind == "port5353" else 53
            lines.append(
                f"{t} IP {server} > {client}: ICMP {server} udp port {port} unreachable, length 66"
            )
    return "\n".join(lines) + "\n"


def _plain_rule(df, answered_at, window_ns):
    q = df.loc[df["dns_qr"] == "query"]
    queries = list(
        zip(q["record"], q["time"].astype("int64"), q["src"], q["dst"], q["dport"], strict=True)
    )
    errors = df.loc[df["proto"] == "icmp"]  # (every ICMP message these logs hold is an error)
    taken: set[int] = set()
    out: dict[int, int] = {}
    for e_rec, e_time, to, odst, oport in zip(
        errors["record"],
        errors["time"].astype("int64"),
        errors["dst"],
        errors["icmp_orig_dst"],
        errors["icmp_orig_dport"],
        strict=True,
    ):
        waiting = [
            rec
            for rec, t, client, server, port in queries
            if client == to
            and server == odst
            and (pd.isna(oport) or port == oport)
            and rec < e_rec
            and rec not in taken
            and answered_at.get(rec, 1 << 62) >= e_rec
            and e_time - t <= window_ns
        ]
        if waiting:
            out[min(waiting)] = int(e_rec)
            taken.add(min(waiting))
    return out


@settings(max_examples=150, deadline=None)
@given(EVENTS, st.sampled_from(["5min", "30s"]))
def test_icmp_errors_pair_by_the_plain_rule(events, window):
    df = ik.parse_tcpdump(_log(events))
    q = dns._queries(df).sort_values("query_record").reset_index(drop=True)
    pairs = dns._pair_responses(q, dns._responses(df), pd.Timedelta(window))
    answered_at = dict(zip(pairs["query_record"], pairs["response_record"], strict=True))
    got = dns._pair_icmp(q, df, dns._answered_by(q, pairs), pd.Timedelta(window))
    assert got == _plain_rule(df, answered_at, pd.Timedelta(window).value)


# --------------------------------------------------------------------------- response pairing
# the rule written out plainly: each response, in order, answers the earliest query with
# its client port and DNS id (one client, one server here) that was sent before it, is
# not answered yet, and is within the window
RESPONSE_EVENTS = st.lists(
    st.tuples(
        st.sampled_from(["query", "answer"]),
        st.integers(0, 2),  # client port offset
        st.integers(1, 3),  # DNS id
        st.integers(1, 90),  # seconds since the previous packet
    ),
    min_size=1,
    max_size=50,
)


def _response_log(events) -> str:
    lines, now = [], 0
    for kind, port, qid, gap in events:
        now += gap
        t = f"13:{now // 60 % 60:02d}:{now % 60:02d}.000000"
        if kind == "query":
            lines.append(
                f"{t} IP 192.0.2.1.{40000 + port} > 203.0.113.2.53: {qid}+ A? x.example. (30)"
            )
        else:
            lines.append(
                f"{t} IP 203.0.113.2.53 > 192.0.2.1.{40000 + port}: {qid} 1/0/0 A 192.0.2.9 (46)"
            )
    return "\n".join(lines) + "\n"


@settings(max_examples=150, deadline=None)
@given(RESPONSE_EVENTS, st.sampled_from(["5min", "30s"]))
def test_responses_pair_first_in_first_out_by_the_plain_rule(events, window):
    df = ik.parse_tcpdump(_response_log(events))
    q = dns._queries(df).sort_values("query_record").reset_index(drop=True)
    got = dns._pair_responses(q, dns._responses(df), pd.Timedelta(window))
    limit = pd.Timedelta(window).value
    waiting: list[tuple[int, int, int, int]] = []  # (record, time, port, id)
    want: dict[int, int] = {}
    for rec, t, kind, port, qid in zip(
        df["record"],
        df["time"].astype("int64"),
        df["dns_qr"],
        df["sport"],
        df["dns_id"],
        strict=True,
    ):
        if kind == "query":
            waiting.append((rec, t, port, qid))
            continue
        port = df.loc[df["record"] == rec, "dport"].item()
        fits = [w for w in waiting if (w[2], w[3]) == (port, qid) and 0 <= t - w[1] <= limit]
        if fits:
            want[int(fits[0][0])] = int(rec)
            waiting.remove(fits[0])
    assert dict(zip(got["query_record"], got["response_record"], strict=True)) == want


def test_inputs_out_of_time_order_pair_nothing_backwards_in_time():
    # the later capture given first: its queries come first in record order, but the ICMP
    # errors of the earlier capture were sent before them and answer the earlier queries
    later = ik.read("data/scenarios/firewall_drop.pcap")
    earlier = ik.read("data/scenarios/firewall_reject.nn-tttt.txt")
    assert later["time"].min() > earlier["time"].max()
    tx = ik.dns_transactions(
        ik.read(["data/scenarios/firewall_drop.pcap", "data/scenarios/firewall_reject.nn-tttt.txt"])
    )
    assert (tx["latency"].dropna() >= pd.Timedelta(0)).all()
    alone = ik.dns_transactions(earlier)
    paired = tx.loc[tx["outcome"] == "icmp_error"]
    assert len(paired) == (alone["outcome"] == "icmp_error").sum() == 3
    assert (paired["query_record"] > len(later)).all()
    assert (tx.loc[tx["query_record"] <= len(later), "outcome"] == "no_response").all()
