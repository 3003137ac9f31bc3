"""The seed's own log: three queries, three ICMP errors, copied two records to a line."""

from __future__ import annotations

import pandas as pd
from conftest import SEED_LOG

import incidentkit as ik


def test_seed_log_has_six_records_from_three_lines():
    df = ik.read_tcpdump(SEED_LOG, date="2026-11-24")
    assert len(df) == 6
    assert df["line"].tolist() == [1, 1, 2, 2, 3, 3]
    assert (df["proto"] != "unparsed").all()
    assert df.attrs["capture"]["lines"] == 3


def test_seed_queries():
    df = ik.read_tcpdump(SEED_LOG, date="2026-11-24")
    q = df[df["proto"] == "udp"]
    assert len(q) == 3
    assert set(q["src"]) == {"192.51.100.15"} and set(q["sport"]) == {52444}
    assert set(q["dst"]) == {"203.0.113.2"} and set(q["dport"]) == {53}
    assert set(q["dns_id"]) == {35084} and set(q["dns_qtype"]) == {"A"}
    assert set(q["dns_qname"]) == {"yummyrecipesforme.com"}
    assert set(q["dns_qr"]) == {"query"}


def test_seed_icmp_errors():
    df = ik.read_tcpdump(SEED_LOG, date="2026-11-24")
    e = df[df["proto"] == "icmp"]
    assert e["src"].tolist() == ["203.0.113.2"] * 3
    assert e["icmp_type"].tolist() == [3, 3, 3] and e["icmp_code"].tolist() == [3, 3, 3]
    assert set(e["icmp_reason"]) == {"port unreachable"}
    assert set(e["icmp_orig_proto"]) == {"udp"}
    assert set(e["icmp_orig_dst"]) == {"203.0.113.2"} and set(e["icmp_orig_dport"]) == {53}
    assert e["length"].tolist() == [254, 320, 150]


def test_seed_times_with_a_date_anchor():
    df = ik.read_tcpdump(SEED_LOG, date="2026-11-24")
    assert df["time"].iloc[0] == pd.Timestamp("2026-11-24 13:24:32.192571")
    assert df["time"].iloc[-1] == pd.Timestamp("2026-11-24 13:28:50.022967")
    assert df["time"].is_monotonic_increasing
    assert df.attrs["capture"]["date_assumed"] is False


def test_time_only_log_without_a_date_is_dated_deterministically():
    df = ik.read_tcpdump(SEED_LOG)
    assert df["time"].iloc[0] == pd.Timestamp("1970-01-01 13:24:32.192571")
    assert df.attrs["capture"]["date_assumed"] is True
