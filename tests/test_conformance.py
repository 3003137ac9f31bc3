"""Conformance over tcpdump's own regression outputs (../shared/corpus/tcpdump-tests).

Every test of tcpdump's TESTLIST: the reader raises nothing, keeps no line as
'unparsed', gives one row per packet number that -# printed, and decodes every DNS
query line and every ICMP "unreachable" line. The corpus stays outside the project;
without it these tests skip and say why.
"""

from __future__ import annotations

import csv
import re
import warnings

import pytest
from conftest import CORPUS

import incidentkit as ik

pytestmark = pytest.mark.corpus

if (CORPUS / "MANIFEST.tsv").exists():
    with open(CORPUS / "MANIFEST.tsv", newline="") as handle:
        TESTS = [(row["name"], row["out"]) for row in csv.DictReader(handle, delimiter="\t")]
else:
    TESTS = []

_NUMBER = re.compile(r"^ *(\d+)  ")
# A DNS question as domain_print() writes it: "22836+ [1au] A? www.tcpdump.org."
_QUERY = re.compile(r"\d+\+?%?(?: \[[^\]]+\])* [A-Z][A-Za-z0-9]*(?: \([^)]*\))?\? \S")
# What it prints for a response: id, flags, counts "2/2/5"
_RESPONSE = re.compile(r": (?:\[[^\]]*\] )?\d+[^:]*? \d+/\d+/\d+[ (]")


def test_corpus_is_present_or_the_skip_says_why():
    if not TESTS:
        pytest.skip(f"tcpdump's regression corpus is not at {CORPUS} (it lives in ../shared)")
    assert len(TESTS) == 149


@pytest.mark.parametrize(
    ("name", "out"),
    TESTS
    or [
        pytest.param(
            "-",
            "-",
            marks=pytest.mark.skip(reason=f"tcpdump's regression corpus is not at {CORPUS}"),
        )
    ],
)
def test_corpus_output(name, out):
    path = CORPUS / out
    text = path.read_text(errors="replace")
    if name.startswith("timestamp_invalid"):  # two stamps tcpdump marks "(invalid us)"
        with pytest.warns(ik.ParseWarning, match="2 of 3 records .* marked invalid"):
            df = ik.read_tcpdump(path)
        assert df["time"].isna().tolist() == [False, True, True]
        assert df["error"].str.contains("tcpdump marks the time stamp invalid").sum() == 2
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("error", ik.ParseWarning)
            df = ik.read_tcpdump(path)
    assert not (df["proto"] == "unparsed").any()
    numbers = [int(m.group(1)) for line in text.splitlines() if (m := _NUMBER.match(line))]
    assert df["packet"].tolist() == numbers

    first_lines = df["raw"].str.split("\n\t", n=1).str[0]  # the packet, not what it quotes
    for i, main in enumerate(first_lines):
        main_no_header = main.split("\n", 1)[-1] if "\n" in main else main
        if _QUERY.search(main_no_header) and not _RESPONSE.search(main_no_header):
            assert df.loc[i, "dns_qr"] == "query", main
            assert df.loc[i, "dns_qname"] is not None and df.loc[i, "dns_id"] is not None, main
        if re.search(r"ICMP .*unreachable", main):
            assert df.loc[i, "icmp_type"] == 3, main
            assert isinstance(df.loc[i, "icmp_orig_dst"], str), main
            assert isinstance(df.loc[i, "icmp_reason"], str), main
