"""The diagnosis: the seed, every scenario in every rendering, and the edge cases."""

from __future__ import annotations

import json

import pytest
from conftest import RENDERINGS, SEED_LOG, rendering_path, scenario_manifest

import incidentkit as ik

SITE = "yummyrecipesforme.com"
EXPECTED_ADDRESS = "203.0.113.80"


def test_seed_diagnosis():
    d = ik.diagnose(ik.read_tcpdump(SEED_LOG, date="2026-11-24"))
    assert (d.protocol, d.port, d.service, d.server) == ("udp", 53, "DNS", "203.0.113.2")
    assert d.cause == "service_down"
    assert d.hypothesis("service_down").verdict == "supported"
    assert d.hypothesis("firewall").verdict == "possible"
    assert d.hypothesis("host_down").verdict == "ruled out"
    assert d.hypothesis("dos").verdict == "ruled out"
    assert d.evidence_records == [1, 2, 3, 4, 5, 6]
    assert d.facts["max_attempts"] == 3
    assert d.facts["retry_intervals_s"] == [120.0, 120.0]
    assert "asked 3 times" in d.facts["retries"] and "120 s and 120 s apart" in d.facts["retries"]
    assert d.failure == "ICMP port unreachable from the server"


@pytest.mark.parametrize("style", RENDERINGS)
@pytest.mark.parametrize("row", scenario_manifest(), ids=lambda r: r["scenario"])
def test_scenario_cause(row, style):
    df = ik.read_tcpdump(rendering_path(row["scenario"], style))
    d = ik.diagnose(df, domain=SITE, expected_address=EXPECTED_ADDRESS)
    assert d.cause == row["expected_cause"], d.summary
    if d.cause not in ("none",):
        assert d.evidence_records, d.summary
        assert set(d.evidence_records) <= set(df["record"])


def test_reject_with_port_unreachable_names_the_firewall_as_the_alternative():
    d = ik.diagnose(ik.read_tcpdump(rendering_path("reject_port_unreachable", "n")))
    assert d.cause == "service_down"
    assert d.hypothesis("firewall").verdict == "possible"
    assert "REJECT" in d.hypothesis("firewall").sentence


def test_wrong_answer_needs_the_expected_address():
    df = ik.read_tcpdump(rendering_path("wrong_answer", "n"))
    assert ik.diagnose(df).cause == "none"
    d = ik.diagnose(df, expected_address=EXPECTED_ADDRESS)
    assert d.cause == "misconfiguration"
    assert "198.51.100.66 instead of 203.0.113.80" in d.hypothesis("misconfiguration").sentence


def test_flood_threshold_is_a_parameter():
    df = ik.read_tcpdump(rendering_path("dos", "n"))
    assert ik.diagnose(df).cause == "dos"
    assert ik.diagnose(df, dos_threshold=10**6).cause == "none"
    assert ik.diagnose(df, dos_min_sources=100).cause == "none"
    with pytest.raises(TypeError, match="unknown thresholds"):
        ik.diagnose(df, dos_sources=3)


def test_empty_capture_is_inconclusive():
    d = ik.diagnose(ik.parse_tcpdump(""))
    assert d.cause == "inconclusive" and d.hypotheses == [] and d.evidence_records == []


def test_capture_without_dns_is_inconclusive():
    text = "14:54:36.902024 ARP, Request who-has 198.51.100.1 tell 198.51.100.15, length 28\n"
    d = ik.diagnose(ik.parse_tcpdump(text))
    assert d.cause == "inconclusive"
    assert "no DNS query" in d.summary


def test_several_servers_are_each_judged():
    healthy = rendering_path("healthy", "n").read_text().replace("203.0.113.2", "203.0.113.3")
    broken = rendering_path("service_down", "n").read_text()
    df = ik.parse_tcpdump(healthy + broken)
    d = ik.diagnose(df)
    judged = {j.server: j.cause for j in d.servers}
    assert judged == {"203.0.113.3": "none", "203.0.113.2": "service_down"}
    assert d.server == "203.0.113.2" and d.cause == "service_down"
    assert ik.diagnose(df, server="203.0.113.3").cause == "none"
    assert ik.diagnose(df, server="192.0.2.99").cause == "inconclusive"


def test_responses_without_names_still_pair():
    df = ik.read_tcpdump(rendering_path("nxdomain", "n"))
    response = df[df["dns_qr"] == "response"]
    assert response["dns_qname"].isna().all()
    assert ik.diagnose(df, domain=SITE).cause == "misconfiguration"


def test_to_dict_is_json_ready():
    d = ik.diagnose(ik.read_tcpdump(SEED_LOG, date="2026-11-24"))
    data = json.loads(json.dumps(d.to_dict()))
    assert data["cause"] == "service_down"
    assert data["facts"]["first_query"] == "2026-11-24T13:24:32.192571"
    assert data["hypotheses"][0]["records"] == [1, 2, 3, 4, 5, 6]
    assert {h["cause"] for h in data["hypotheses"]} == {
        "service_down",
        "host_down",
        "firewall",
        "dos",
        "misconfiguration",
        "none",
    }
