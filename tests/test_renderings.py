"""Every common tcpdump flag, rendered now by the real tcpdump from the committed captures,
reads back to the same packets as the plain -nn rendering."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest
from conftest import pcap_path, scenario_manifest, tcpdump

import incidentkit as ik

SMALL = [r["scenario"] for r in scenario_manifest() if r["scenario"] != "dos"]
FLAGS = [
    ("-nn", "-e"),
    ("-nn", "-v"),
    ("-nn", "-vv"),
    ("-nn", "-vvv"),
    ("-nn", "-e", "-v"),
    ("-nn", "-tt"),
    ("-nn", "-tttt"),
    ("-nn", "-ttt"),
    ("-nn", "-ttttt"),
    ("-nn", "--nano"),
    ("-nn", "-#"),
    ("-nn", "-x"),
    ("-nn", "-X"),
    ("-nn", "-A"),
    ("-nn", "-t"),
    ("-nn", "-q"),
    ("-n",),
]
SAME = ["proto", "src", "dst", "sport", "dport", "icmp_type", "icmp_code"]
# -v quotes the whole datagram an ICMP error answers, so it may know more than the plain
# rendering ("host X unreachable" names no port): compare where the plain one knows.
QUOTED = ["icmp_orig_dst", "icmp_orig_dport", "icmp_orig_proto"]
DNS = ["dns_id", "dns_qr", "dns_rcode", "dns_ancount"]


def read(text: str, date: str = "2026-11-24") -> pd.DataFrame:
    """``text`` read whole; ``date`` anchors renderings that print a time of day only."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", ik.ParseWarning)
        return ik.parse_tcpdump(text, date=date, tz="UTC")


@pytest.fixture(scope="module")
def baselines():
    return {name: read(tcpdump(pcap_path(name), "-nn", "-tt")) for name in SMALL}


@pytest.mark.parametrize("flags", FLAGS, ids=[" ".join(f) for f in FLAGS])
@pytest.mark.parametrize("scenario", SMALL)
def test_flags_read_back_the_same_packets(baselines, scenario, flags):
    base = baselines[scenario]
    # (-tt prints seconds since the epoch: the day the scenario was recorded)
    day = base["time"].dropna().iloc[0].strftime("%Y-%m-%d")
    df = read(tcpdump(pcap_path(scenario), *flags), day)
    assert len(df) == len(base)
    assert not (df["proto"] == "unparsed").any()
    for column in SAME:
        pd.testing.assert_series_equal(df[column], base[column], obj=column)
    for column in QUOTED:
        known = base[column].notna()
        assert df.loc[known, column].tolist() == base.loc[known, column].tolist(), column
    if "-q" not in flags:
        for column in DNS:
            pd.testing.assert_series_equal(df[column], base[column], obj=column)
        queries = base["dns_qr"] == "query"
        assert df.loc[queries, "dns_qname"].tolist() == base.loc[queries, "dns_qname"].tolist()
    if "-t" in flags:
        assert df["time"].isna().all()
    elif "-ttt" in flags or "-ttttt" in flags:
        # deltas: the same spacing between packets as the absolute times
        got = df["time"].diff().dropna().tolist()
        want = base["time"].diff().dropna().tolist()
        assert got == want
    else:
        assert df["time"].tolist() == base["time"].tolist()
    if "-#" in flags:
        assert df["packet"].tolist() == list(range(1, len(df) + 1))
    if "-e" in flags:
        assert df["link_src"].notna().all()
    if any(f.startswith("-v") for f in flags):
        # IPv4 ICMP errors quote the query they answer: who sent it, from which port, its id
        quoting = (df["proto"] == "icmp") & (df["icmp_orig_proto"] == "udp")
        assert df.loc[quoting, "icmp_orig_sport"].notna().all()
        assert df.loc[quoting, "icmp_orig_dns_id"].notna().all()


def test_flood_in_verbose_reads_back_whole():
    flood = read(tcpdump(pcap_path("dos"), "-nn", "-v"))
    base = read(tcpdump(pcap_path("dos"), "-nn", "-tt"))
    assert len(flood) == len(base) > 40_000
    pd.testing.assert_series_equal(flood["dns_id"], base["dns_id"])
    assert flood["ttl"].notna().sum() == (flood["proto"] != "arp").sum()


def test_offsets_from_the_first_packet_survive_the_captures_own_reordering():
    # the flood's pcap has a packet stamped 13 microseconds before the one ahead of it
    # (several queues of one card): -ttttt still reads as offsets, not as gaps to add up
    base = read(tcpdump(pcap_path("dos"), "-nn", "-tt"))
    steps = base["time"].diff().dropna()
    assert (steps < pd.Timedelta(0)).sum() >= 1
    offsets = read(tcpdump(pcap_path("dos"), "-nn", "-ttttt"), "1970-01-01")
    assert offsets.attrs["capture"]["time_format"] == "-ttttt"
    got = (offsets["time"] - offsets["time"].iloc[0]).tolist()
    want = (base["time"] - base["time"].iloc[0]).tolist()
    assert got == want
    d = ik.diagnose(offsets, domain="yummyrecipesforme.com")
    assert d.cause == "dos"
