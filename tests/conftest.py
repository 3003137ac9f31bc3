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


#: capture metadata that says how a log was read, not what it holds
HOW_READ = ("engine", "c_rows")


def both_engines(text_or_path, **kwargs):
    """Read with each engine; the frames and their metadata must be identical."""
    import warnings

    import pandas as pd

    import incidentkit as ik

    read = ik.parse_tcpdump if isinstance(text_or_path, str) else ik.read_tcpdump
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ik.ParseWarning)
        fast = read(text_or_path, engine="c", **kwargs)
        slow = read(text_or_path, engine="python", **kwargs)
    pd.testing.assert_frame_equal(fast, slow)
    a = {k: v for k, v in fast.attrs["capture"].items() if k not in HOW_READ}
    b = {k: v for k, v in slow.attrs["capture"].items() if k not in HOW_READ}
    assert a == b
    assert slow.attrs["capture"]["engine"] == "python"
    assert slow.attrs["capture"]["c_rows"] == 0
    return fast


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
