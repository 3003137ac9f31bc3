"""The command line, run as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
from conftest import SEED_LOG, rendering_path

import incidentkit as ik


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "incidentkit.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_summary_of_the_seed():
    result = run("parse", str(SEED_LOG), "--summary")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "records: 6"
    assert "  udp: 3" in lines and "  icmp: 3" in lines
    assert any(line.startswith("time span: ") and "257.830396 s" in line for line in lines)
    assert lines[-1] == "unparsed lines: 0"


def test_csv_jsonl_and_parquet(tmp_path):
    csv_out = tmp_path / "seed.csv"
    assert run("parse", str(SEED_LOG), "-o", str(csv_out)).returncode == 0
    frame = pd.read_csv(csv_out)
    assert len(frame) == 6 and frame["dport"].dropna().astype(int).tolist() == [53, 53, 53]

    result = run("parse", str(SEED_LOG), "--format", "jsonl", "--date", "2026-11-24")
    rows = [json.loads(line) for line in result.stdout.splitlines() if line]
    assert [r["proto"] for r in rows] == ["udp", "icmp"] * 3
    assert rows[0]["time"].startswith("2026-11-24T13:24:32.192571")

    parquet = tmp_path / "seed.parquet"
    assert run("parse", str(SEED_LOG), "--format", "parquet", "-o", str(parquet)).returncode == 0
    assert pd.read_parquet(parquet)["icmp_orig_dport"].dropna().tolist() == [53, 53, 53]


def test_gzipped_rendering_summary():
    result = run("parse", str(rendering_path("dos", "n")), "--summary")
    assert result.returncode == 0
    assert result.stdout.splitlines()[0] == "records: 40118"


def test_errors_are_one_clear_line(tmp_path):
    missing = run("parse", str(tmp_path / "missing.log"))
    assert missing.returncode == 2
    assert missing.stderr.strip() == f"incidentkit: error: {tmp_path / 'missing.log'}: no such file"
    pcap = tmp_path / "x.pcap"
    pcap.write_bytes(b"\xd4\xc3\xb2\xa1" + bytes(20))
    refused = run("parse", str(pcap))
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert refused.stderr.strip() == (
        f"incidentkit: error: {pcap}: pcap version 0.0: an archaic or damaged file header "
        "(libpcap reads version 2.x)"
    )
    assert run("parse", str(SEED_LOG), "--format", "parquet").returncode == 2


def test_unparsed_lines_warn_on_stderr(tmp_path):
    log = tmp_path / "mixed.log"
    log.write_text(SEED_LOG.read_text() + "this is no packet\n")
    result = run("parse", str(log), "--summary")
    assert result.returncode == 0
    assert "1 of 4 lines are not tcpdump records" in result.stderr
    assert result.stdout.splitlines()[-1] == "unparsed lines: 1 (lines 4)"


def test_diagnose_text():
    result = run("diagnose", str(SEED_LOG), "--date", "2026-11-24")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:2] == ["cause: service_down", "confidence: likely"]
    assert any(line.startswith("  1. service_down") and "likely" in line for line in lines)
    assert any(line.startswith("  2. firewall") and "possible" in line for line in lines)
    evidence = lines[lines.index("evidence (6 records):") + 1 :]
    assert evidence[0].split()[:3] == ["line", "1", "13:24:32.192571"]
    assert len(evidence) == 6


def test_diagnose_json_is_the_only_output():
    result = run(
        "diagnose",
        str(rendering_path("wrong_answer", "n")),
        "--json",
        "--expected-address",
        "203.0.113.80",
        "--domain",
        "yummyrecipesforme.com",
    )
    assert result.returncode == 0
    data = json.loads(result.stdout)
    assert data["cause"] == "misconfiguration"
    assert data["server"] == "203.0.113.2"


def test_progress_bar_for_big_inputs(tmp_path):
    import gzip

    big = tmp_path / "big.log.gz"
    text = SEED_LOG.read_text() * 20_000  # 60,000 lines, about 13 MB of text
    big.write_bytes(gzip.compress(text.encode(), compresslevel=1))
    assert big.stat().st_size > 0
    plain = tmp_path / "big.log"
    plain.write_text(text)
    for path in (plain,):
        result = run("parse", str(path), "--summary")
        assert result.returncode == 0, result.stderr
        assert "incidentkit: reading big.log [" in result.stderr
        assert "100%" in result.stderr and "120000 rows" in result.stderr
        assert result.stdout.splitlines()[0] == "records: 120000"
    quiet = run("parse", str(SEED_LOG), "--summary")
    assert quiet.stderr == ""
    # the gzipped log streams through the same reader
    assert ik.read_tcpdump(big)["dns_qname"].notna().sum() == 60_000
