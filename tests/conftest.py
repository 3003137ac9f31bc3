"""Shared fixtures: the seed's log, the scenario library, tcpdump's own corpus."""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
SEED_LOG = DATA / "yummyrecipesforme_dns_icmp.log"
SCENARIOS = DATA / "scenarios"
CORPUS = ROOT.parent / "shared" / "corpus" / "tcpdump-tests"
RENDERINGS = ("default", "n", "nn-tttt", "v")


def scenario_manifest() -> list[dict[str, str]]:
    with open(SCENARIOS / "MANIFEST.tsv", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def rendering_path(scenario: str, style: str) -> Path:
    plain = SCENARIOS / f"{scenario}.{style}.txt"
    return plain if plain.exists() else plain.with_name(plain.name + ".gz")


def pcap_path(scenario: str) -> Path:
    plain = SCENARIOS / f"{scenario}.pcap"
    return plain if plain.exists() else plain.with_name(plain.name + ".gz")


def tcpdump(pcap: Path, *flags: str) -> str:
    """Render ``pcap`` with the real tcpdump (TZ=UTC, no name lookups leave the machine)."""
    exe = shutil.which("tcpdump")
    if exe is None:
        pytest.fail("tcpdump is not installed: .ci/run installs it (apt-get install tcpdump)")
    if pcap.suffix == ".gz":
        import gzip

        data = gzip.decompress(pcap.read_bytes())
        args = [exe, "-r", "-", *flags]
    else:
        data = None
        args = [exe, "-r", str(pcap), *flags]
    result = subprocess.run(
        args,
        input=data,
        capture_output=True,
        env={"TZ": "UTC", "PATH": "/usr/bin:/bin"},
        timeout=120,
        check=True,
    )
    return result.stdout.decode()


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
