"""The packet decoder of the capture reader, held to the text reader on tcpdump's own
rendering of the same captures: every column both readers know a value of agrees."""

from __future__ import annotations

import gzip
import re
import subprocess
import warnings

import pandas as pd
import pytest
from conftest import SCENARIOS

import incidentkit as ik
from incidentkit.parse._packets import decode_packet
from incidentkit.parse._pcapfile import read_frames

#: the columns compared with tcpdump -nn -tttt -v (dns_answers with -nn: -v prints each
#: answer's name as well, "example.com. A 192.0.2.1", and the default does not)
COMPARED = (
    "proto", "src", "dst", "sport", "dport", "length", "ttl",
    "icmp_type", "icmp_code", "icmp_reason", "icmp_orig_proto", "icmp_orig_src",
    "icmp_orig_sport", "icmp_orig_dst", "icmp_orig_dport", "icmp_orig_dns_id",
    "dns_id", "dns_qr", "dns_flags", "dns_qtype", "dns_qname", "dns_rcode", "dns_ancount",
)  # fmt: skip
#: packets compared per capture (the floods' first ones are the same kinds as the rest)
FIRST = 1000

CAPTURES = sorted(SCENARIOS.glob("*.pcap")) + sorted(SCENARIOS.glob("*.pcap.gz"))


def _rendered(data: bytes, *flags: str) -> pd.DataFrame:
    text = subprocess.run(
        ["tcpdump", "-#", "-r", "-", *flags],
        input=data,
        capture_output=True,
        env={"TZ": "UTC", "PATH": "/usr/bin:/bin"},
        timeout=120,
        check=True,
    ).stdout.decode()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ik.ParseWarning)
        df = ik.parse_tcpdump(text)
    return df[df["packet"].notna()].set_index("packet")


@pytest.mark.parametrize("path", CAPTURES, ids=lambda p: p.name)
def test_the_decoder_reads_each_packet_as_the_text_reader_reads_tcpdumps_words(path):
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    frames = read_frames(data, path.name)
    verbose = _rendered(data, "-nn", "-tttt", "-v")
    plain = _rendered(data, "-nn")
    view = memoryview(frames.data)
    compared, wrong = 0, []
    for i in range(min(len(frames.offset), FIRST)):
        start = int(frames.offset[i])
        cols, text, _ = decode_packet(
            view[start : start + int(frames.caplen[i])], int(frames.linktype[i])
        )
        number = i + 1
        for name, table in [(c, verbose) for c in COMPARED] + [("dns_answers", plain)]:
            want = table.at[number, name]
            if pd.isna(want):
                continue
            compared += 1
            if str(cols.get(name)) != str(want):
                wrong.append((number, name, cols.get(name), want))
        if cols.get("proto") == "udp" and cols.get("dns_id") is not None:
            # a DNS datagram reads as tcpdump -nn prints it, after its timestamp
            shown = re.sub(r"^ *\d+  \S+ ", "", plain.at[number, "raw"])
            if text != shown:
                wrong.append((number, "text", text, shown))
    view.release()
    assert compared > 0
    assert not wrong, wrong[:10]
