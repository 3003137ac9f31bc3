"""How fast incidentkit reads tcpdump text, side by side in one run (``make bench``).

For each size, a deterministic capture (benchmarks/traffic.py) is written as a pcap and
rendered by the real tcpdump. Then, in the same process, alternating, ``--reps`` times:

(a) the floor: ``pd.Series(path.read_text().splitlines(), dtype="string[pyarrow]")``;
(b) ``incidentkit.read_tcpdump(path)`` (its C scanner, with the patterns for the rest);
(b') ``incidentkit.read_tcpdump(path, engine="python")``, the patterns alone (up to
    ``--python-up-to`` records, default style);
(c) the parser an analyst would write: one compiled regex for the header, applied with
    ``match(...).groupdict()`` to each line, the dicts in a list, ``pd.DataFrame(rows)``
    and ``pd.to_datetime`` on the time.

The medians go to a table. Peak memory is measured for each in a process of its own.
``dns_transactions`` and ``diagnose`` are timed on the 1M-record frame. The results are
written to docs/performance.md.

Usage: python benchmarks/bench_parse.py [--sizes 100000 1000000 3000000] [--reps 3]
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import traffic  # noqa: E402

import incidentkit as ik  # noqa: E402

NAIVE = re.compile(
    r"^(?P<time>\S+) (?P<proto>\S+) (?P<src>[^\s>]+?)(?:\.(?P<sport>\w+))? > "
    r"(?P<dst>[^\s:]+?)(?:\.(?P<dport>\w+))?: (?P<rest>.*)$"
)


def floor(path: Path) -> pd.Series:
    return pd.Series(path.read_text().splitlines(), dtype="string[pyarrow]")


def naive(path: Path) -> pd.DataFrame:
    rows = []
    with open(path) as handle:
        for line in handle:
            m = NAIVE.match(line)
            if m:
                rows.append(m.groupdict())
    df = pd.DataFrame(rows)
    df["time"] = pd.to_datetime(df["time"], format="%H:%M:%S.%f", errors="coerce")
    return df


def reader(path: Path) -> pd.DataFrame:
    return ik.read_tcpdump(path)


def python_engine(path: Path) -> pd.DataFrame:
    return ik.read_tcpdump(path, engine="python")


METHODS = {
    "floor": floor,
    "read_tcpdump": reader,
    "engine=python": python_engine,
    "per-line regex": naive,
}
#: the methods that only run on default-style logs up to a size
LIMITED = {"per-line regex": "naive_up_to", "engine=python": "python_up_to"}


def render(pcap: Path, style: str, out: Path) -> Path:
    """Render with the real tcpdump; name lookups never leave the machine."""
    if out.exists():
        return out
    isolate = ["unshare", "-n"] if os.geteuid() == 0 and shutil.which("unshare") else None
    flags = {"default": [], "nn-tttt": ["-nn", "-tttt"], "v": ["-v"]}[style]
    if isolate is None and "-nn" not in flags:
        flags = ["-n", *flags]  # without a private network namespace, no lookups at all
    cmd = [*(isolate or []), "tcpdump", "-r", str(pcap), *flags]
    with open(out, "wb") as handle:
        subprocess.run(
            cmd,
            stdout=handle,
            stderr=subprocess.DEVNULL,
            check=True,
            env={"TZ": "UTC", "PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        )
    return out


def timed(fn: Any, path: Path) -> float:
    gc.collect()
    start = time.perf_counter()
    result = fn(path)
    elapsed = time.perf_counter() - start
    del result
    return elapsed


PEAK = """
import sys
sys.path.insert(0, {here!r})
import bench_parse, {module} as b
from pathlib import Path
before = bench_parse.high_water()
b.METHODS[{method!r}](Path({path!r}))
print(before, bench_parse.high_water())
"""


def high_water() -> int:
    """This process's peak resident memory in kB (VmHWM: unlike ru_maxrss it does not
    carry over the parent's peak across fork and exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def peak_memory(method: str, path: Path, module: str = "bench_parse") -> tuple[float, float]:
    """(peak RSS of the whole process, peak above the imports), in MB, of ``method`` of
    ``module``'s METHODS run on ``path`` in a process of its own."""
    code = PEAK.format(here=str(HERE), module=module, method=method, path=str(path))
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=1800
    ).stdout.split()
    before, after = int(out[0]) / 1024, int(out[1]) / 1024
    return after, after - before


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    tcpdump = subprocess.run(["tcpdump", "--version"], capture_output=True, text=True).stdout
    import pyarrow

    return (
        f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB; {platform.platform()}; "
        f"Python {platform.python_version()}, pandas {pd.__version__}, "
        f"pyarrow {pyarrow.__version__}; {tcpdump.splitlines()[0]}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000, 3_000_000])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--work", type=Path, default=Path("/tmp/incidentkit-bench"))
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "performance.md")
    parser.add_argument(
        "--naive-up-to",
        type=int,
        default=1_000_000,
        help="skip the per-line parser above this many records",
    )
    parser.add_argument(
        "--python-up-to",
        type=int,
        default=1_000_000,
        help="skip read_tcpdump(engine='python') above this many records",
    )
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)

    results: list[dict[str, Any]] = []
    frames: dict[int, pd.DataFrame] = {}
    for n in args.sizes:
        pcap = args.work / f"mix-{n}.pcap"
        if not pcap.exists():
            traffic.write_pcap(pcap, n)
        for style in ("default", "nn-tttt", "v"):
            path = render(pcap, style, args.work / f"mix-{n}.{style}.txt")
            if style != "default" and n != 1_000_000:
                continue
            with open(path, "rb") as handle:
                lines = sum(1 for _ in handle)
            methods = [
                m
                for m in METHODS
                if m not in LIMITED or (style == "default" and n <= getattr(args, LIMITED[m]))
            ]
            times: dict[str, list[float]] = {m: [] for m in methods}
            for _ in range(args.reps):
                for m in methods:
                    times[m].append(timed(METHODS[m], path))
            row = {
                "records": n,
                "style": style,
                "lines": lines,
                "mb": path.stat().st_size / 2**20,
                **{m: statistics.median(v) for m, v in times.items()},
                # each run's read against the floor run just before it (the spread)
                "ratios": [
                    r / f for r, f in zip(times["read_tcpdump"], times["floor"], strict=True)
                ],
            }
            results.append(row)
            print(row, flush=True)
            if style == "default" and n == 1_000_000:
                frames[n] = ik.read_tcpdump(path)

    analysis: dict[str, float] = {}
    memory: dict[str, tuple[float, float]] = {}
    mid = 1_000_000 if 1_000_000 in args.sizes else args.sizes[-1]
    mid_path = args.work / f"mix-{mid}.default.txt"
    df = frames.get(mid) if frames else ik.read_tcpdump(mid_path)
    for name, fn in (("dns_transactions", ik.dns_transactions), ("diagnose", ik.diagnose)):
        spent = []
        for _ in range(args.reps):
            gc.collect()
            start = time.perf_counter()
            fn(df)
            spent.append(time.perf_counter() - start)
        analysis[name] = statistics.median(spent)
    for m in METHODS:
        memory[m] = peak_memory(m, mid_path)
    write_report(args, results, analysis, memory, mid, mid_path)


def write_report(
    args: argparse.Namespace,
    results: list[dict[str, Any]],
    analysis: dict[str, float],
    memory: dict[str, tuple[float, float]],
    mid: int,
    mid_path: Path,
) -> None:
    rows = [
        "| records | style | lines | MB | floor (s) | read_tcpdump (s) | engine=python (s) "
        "| per-line regex (s) | read / floor (runs' range) | per-line / read |",
        "|" + " --- |" * 10,
    ]

    def cell(value: float | None) -> str:
        return "" if value is None else f"{value:.2f}"

    for r in results:
        naive_s = r.get("per-line regex")
        speedup = None if naive_s is None else naive_s / r["read_tcpdump"]
        rows.append(
            f"| {r['records']:,} | {r['style']} | {r['lines']:,} | {r['mb']:.0f} | "
            f"{r['floor']:.2f} | {r['read_tcpdump']:.2f} | {cell(r.get('engine=python'))} | "
            f"{cell(naive_s)} | {r['read_tcpdump'] / r['floor']:.2f} "
            f"({min(r['ratios']):.2f}-{max(r['ratios']):.2f}) | {cell(speedup)} |"
        )
    default = {r["records"]: r for r in results if r["style"] == "default"}
    growth = ""
    if 1_000_000 in default and 3_000_000 in default:
        ratio = default[3_000_000]["read_tcpdump"] / default[1_000_000]["read_tcpdump"]
        growth = f"3M / 1M records: {ratio:.2f} times the time (linear is 3.0)."
    size_mb = mid_path.stat().st_size / 2**20
    mem_rows = [
        "| method | peak RSS (MB) | above imports (MB) | above imports / log size |",
        "| --- | --- | --- | --- |",
    ]
    for m, (peak, above) in memory.items():
        mem_rows.append(f"| {m} | {peak:.0f} | {above:.0f} | {above / size_mb:.2f} |")
    read_mid = default.get(mid, {}).get("read_tcpdump", float("nan"))
    text = (
        f"""# Performance

Measured by `make bench` (`benchmarks/bench_parse.py`) on {machine()}.
Each time is the median of {args.reps} runs, taken in one process, the methods
alternating; beside each median ratio of the reader to the floor is the range of the
ratios of single runs (each read against the floor run just before it); the captures
are generated deterministically by `benchmarks/traffic.py`
and rendered by the real tcpdump (TZ=UTC; the default style inside `unshare -n`).

## Reading

{chr(10).join(rows)}

{growth}

## Peak memory ({mid:,} records, default style, {size_mb:.0f} MB of text)

Each method in a process of its own; "above imports" subtracts the process's peak after
importing pandas, pyarrow and incidentkit.

{chr(10).join(mem_rows)}

## Analysis ({mid:,} records)

| step | time (s) | / read_tcpdump |
| --- | --- | --- |
"""
        + "\n".join(f"| {k} | {v:.2f} | {v / read_mid:.2f} |" for k, v in analysis.items())
        + """

## Reproduce

```sh
make bench                                        # all sizes, writes this file
.venv/bin/python benchmarks/bench_parse.py --sizes 100000 --reps 1 --out /tmp/p.md
```
"""
    )
    notes = ROOT / "docs" / "performance-notes.md"
    if notes.exists():
        text += "\n" + notes.read_text()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
