"""Failures recorded beyond the scenario library (data/cases, scripts/cases): routers
that reject with host, net or protocol unreachable while the server is up, a server that
answers with the wrong DNS id, resets and drops on TCP while UDP works, large answers
dropped, a site its resolver cannot resolve while other names work, loss, a rate-limited
flood, healthy traffic. Each capture and tcpdump's renderings of it (made here, with the
real tcpdump) get the cause and confidence of its row in MANIFEST.tsv."""

from __future__ import annotations

import csv
import warnings

import pytest
from conftest import DATA, tcpdump

import incidentkit as ik

CASES = DATA / "cases"
with open(CASES / "MANIFEST.tsv", newline="") as handle:
    ROWS = list(csv.DictReader(handle, delimiter="\t"))
#: cases whose client asked again, with the same DNS id, after an answer had come
RESENT = {
    "clientfw_reject": "2 answered queries were sent again with the same DNS id after their "
    "answer had come: the client did not take the answer (it sent port unreachable back",
    "frag_later_dropped": "2 answered queries were sent again with the same DNS id after "
    "their answer had come: the client did not take the answer (the answer was lost after "
    "this capture point, a fragmented answer did not arrive whole",
}
RENDERINGS = {"pcap": None, "nn-tttt": ("-nn", "-tttt"), "nn": ("-nn",), "v": ("-nn", "-v")}


def test_every_case_is_in_the_manifest():
    assert sorted(r["case"] for r in ROWS) == sorted(p.stem for p in CASES.glob("*.pcap"))


@pytest.mark.parametrize("row", ROWS, ids=[r["case"] for r in ROWS])
@pytest.mark.parametrize("rendering", list(RENDERINGS))
def test_each_case_gets_its_cause_from_the_capture_and_its_renderings(row, rendering):
    path = CASES / f"{row['case']}.pcap"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ik.ParseWarning)
        flags = RENDERINGS[rendering]
        df = ik.read(path) if flags is None else ik.parse_tcpdump(tcpdump(path, *flags))
    d = ik.diagnose(df, domain=row["domain"] or None)
    assert (d.cause, d.confidence) == (row["expected_cause"], row["confidence"]), d.summary
    if row["case"].startswith("ttl1"):  # no cause of the list: the firewall says why not
        said = {h.cause: h.sentence for h in d.hypotheses}["firewall"]
        assert "died on the way (a routing loop, or a hop limit too small)" in said
    if row["case"] in RESENT:  # answers the client did not take: said, not a cause
        assert any(c.startswith(RESENT[row["case"]]) for c in d.caveats), d.caveats
    judged = {h.cause: h.confidence for h in d.hypotheses}
    for cause in filter(None, row["also_open"].split(",")):
        # what the capture cannot tell apart from the cause stays open, below it
        assert judged[cause] in ("possible", "likely"), (cause, judged)


@pytest.mark.parametrize("rendering", ["nn", "nn-tttt", "v"])
def test_icmpv6_time_exceeded_names_the_quoted_destination_as_the_bytes_do(rendering):
    """tcpdump prints 'time exceeded in-transit for ADDR' for ICMPv6: the text reader takes
    ADDR as the quoted destination, as read_pcap reads it from the quoted header."""
    path = CASES / "ttl1_v6.pcap"
    text = ik.parse_tcpdump(tcpdump(path, *RENDERINGS[rendering]))
    capture = ik.read(path)
    for df in (text, capture):
        exceeded = df[(df["proto"] == "icmp6") & (df["icmp_type"] == 3)]
        assert len(exceeded) == 3
        assert exceeded["icmp_orig_dst"].tolist() == ["2001:db8:2::2"] * 3


def test_a_capture_from_a_firewalls_log_says_what_it_cannot_show():
    """An NFLOG capture holds what the rules logged, at the times the log was read: the
    diagnosis of the file says so; tcpdump's text of it does not tell, so neither can its
    diagnosis; a list of inputs says how many of them are such logs."""
    said = "written from a firewall's log (NFLOG). Such a capture holds only the packets"
    for name in ("nflog_answered", "nflog_dropped", "nflog_rejected"):
        path = CASES / f"{name}.pcap"
        assert any(said in c for c in ik.diagnose(ik.read(path)).caveats), name
        text = ik.parse_tcpdump(tcpdump(path, "-nn"))
        assert not any("NFLOG" in c for c in ik.diagnose(text).caveats)
    both = ik.read([CASES / "nflog_dropped.pcap", CASES / "loss30_random.pcap"])
    caveats = ik.diagnose(both).caveats
    assert any(c.startswith("1 of the 2 inputs was written from a firewall's log") for c in caveats)
    plain = ik.diagnose(ik.read(CASES / "loss30_random.pcap")).caveats
    assert not any("NFLOG" in c for c in plain)
