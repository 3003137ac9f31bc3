"""The scenario library: real captures, rendered by the real tcpdump, read back whole."""

from __future__ import annotations

import warnings

import pytest
from conftest import RENDERINGS, SCENARIOS, rendering_path, scenario_manifest

import incidentkit as ik

MANIFEST = scenario_manifest()
CASES = [(row["scenario"], style) for row in MANIFEST for style in RENDERINGS]
EXPECTED = {
    "dos",
    "dos_overwhelmed",
    "dos_single_source",
    "firewall_drop",
    "firewall_hop_port_unreachable",
    "firewall_host_prohibited",
    "firewall_ipv6_prohibited",
    "firewall_net_prohibited",
    "firewall_reject",
    "firewall_udp_blocked_tcp_answers",
    "healthy",
    "healthy_aaaa_unanswered",
    "host_down",
    "host_down_local",
    "host_down_local6",
    "lossy_path",
    "nodata",
    "nxdomain",
    "refused",
    "reject_port_unreachable",
    "retry_storm",
    "servfail",
    "service_down",
    "service_down_ipv6",
    "slow_server",
    "tcp_service_down",
    "truncated_tcp_blocked",
    "wrong_answer",
    "wrong_source",
}


def test_manifest_lists_every_scenario_with_its_files():
    assert {row["scenario"] for row in MANIFEST} == EXPECTED
    for row in MANIFEST:
        for style in RENDERINGS:
            assert rendering_path(row["scenario"], style).exists()


def test_library_stays_small():
    total = sum(p.stat().st_size for p in SCENARIOS.iterdir())
    assert total < 6 * 1024 * 1024


@pytest.mark.parametrize(("scenario", "style"), CASES)
def test_rendering_parses_whole_and_matches_the_manifest(scenario, style):
    row = next(r for r in MANIFEST if r["scenario"] == scenario)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ik.ParseWarning)
        df = ik.read_tcpdump(rendering_path(scenario, style))
    assert not (df["proto"] == "unparsed").any()
    assert len(df) == int(row["packets"])
    assert (df["dns_qr"] == "query").sum() == int(row["dns_queries"])
    assert (df["dns_qr"] == "response").sum() == int(row["dns_responses"])
    errors = ((df["proto"] == "icmp") & df["icmp_type"].isin([3, 11])) | (
        (df["proto"] == "icmp6") & (df["icmp_type"] == 1)
    )
    assert errors.sum() == int(row["icmp_errors"])
    assert df.attrs["capture"]["file"] == f"{scenario}.pcap"
    assert df.attrs["capture"]["link_type"] == "EN10MB"
    assert df["time"].notna().all()
