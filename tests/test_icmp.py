"""ICMP error decoding: meaning, sender, and what the error quotes."""

from __future__ import annotations

from conftest import SEED_LOG, rendering_path

import incidentkit as ik


def test_seed_errors_come_from_the_server_itself():
    e = ik.icmp_errors(ik.read_tcpdump(SEED_LOG))
    assert len(e) == 3
    assert e["from_destination"].tolist() == [True] * 3
    assert set(e["meaning"]) == {"the host is up, but nothing accepted the datagram on that port"}
    assert e["line"].tolist() == [1, 2, 3]


def test_router_errors_are_from_a_hop():
    e = ik.icmp_errors(ik.read_tcpdump(rendering_path("firewall_reject", "n")))
    assert set(e["sender"]) == {"198.51.100.1"}
    assert e["from_destination"].tolist() == [False] * 3
    assert set(e["reason"]) == {"admin prohibited filter"}
    assert set(e["code"]) == {13}


def test_icmpv6_errors():
    e = ik.icmp_errors(ik.read_tcpdump(rendering_path("service_down_ipv6", "v")))
    assert e["family"].tolist() == ["icmp6"] * 3
    assert e[["type", "code"]].drop_duplicates().values.tolist() == [[1, 4]]
    assert set(e["orig_dport"]) == {53}


def test_echo_is_no_error_and_quoted_datagrams_are_decoded():
    df = ik.read_tcpdump(rendering_path("host_down", "v"))
    e = ik.icmp_errors(df)
    assert len(e) == 5  # three DNS queries and two pings refused; echo requests are no errors
    dns = e[e["orig_proto"] == "udp"]
    assert dns["orig_src"].tolist() == ["198.51.100.15"] * 3
    assert dns["orig_dns_id"].notna().all()
    assert set(e.loc[e["orig_proto"] == "icmp", "reason"]) == {"host unreachable"}
