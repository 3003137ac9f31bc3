"""incidentkit.dask against the single-machine path, side by side in one run (``make bench``).

Eight text logs of a busy resolver's traffic (benchmarks/traffic.py, rendered by the real
tcpdump with ``-nn -tttt``), one after the other in time like a capture rotated every few
hours, are diagnosed

(a) on one machine, serially: ``incidentkit.diagnose(incidentkit.read(paths))``;
(b) on a dask.distributed LocalCluster of two worker processes (one thread each) on
    127.0.0.1: ``incidentkit.dask.diagnose(paths)``, which reads each 64 MiB block on a
    worker and sends back only its evidence.

The two alternate, ``--reps`` times each; both must give the same diagnosis. Then each
worker's peak memory (VmHWM of its process), the serial path's peak (in a process of its
own), and the costs of one partition (read, evidence, the evidence's pickled size) are
measured, and everything goes to docs/scaling.md.

Usage: python benchmarks/bench_dask.py [--records 1000000] [--files 8] [--reps 3]
"""

from __future__ import annotations

import argparse
import pickle
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import bench_parse  # noqa: E402
import traffic  # noqa: E402

import incidentkit as ik  # noqa: E402
import incidentkit.dask as ikd  # noqa: E402

START = 1795478400  # 2026-11-24 00:00:00 UTC
GAP = 0.01  # seconds between records: a million records are 2.8 hours


def logs(work: Path, records: int, files: int) -> list[Path]:
    """The logs, made once and kept in ``work``."""
    out = []
    for k in range(files):
        log = work / f"sensor-{records}-{k}.txt"
        if not log.exists():
            pcap = work / f"sensor-{records}-{k}.pcap"
            start = START + k * records * GAP
            traffic.write_pcap(pcap, records, seed=100 + k, start=start, gap=GAP)
            bench_parse.render(pcap, "nn-tttt", log)
            pcap.unlink()
        out.append(log)
    return out


def serial(paths: list[Path]) -> ik.Diagnosis:
    return ik.diagnose(ik.read([str(p) for p in paths]))


SERIAL_PEAK = """
import sys
sys.path.insert(0, {here!r})
import bench_parse, bench_dask
from pathlib import Path
before = bench_parse.high_water()
bench_dask.serial([Path(p) for p in {paths!r}])
print(before, bench_parse.high_water())
"""


def serial_peak(paths: list[Path]) -> tuple[float, float]:
    code = SERIAL_PEAK.format(here=str(HERE), paths=[str(p) for p in paths])
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=3600
    ).stdout.split()
    before, after = int(out[0]) / 1024, int(out[1]) / 1024
    return after, after - before


def one_partition(paths: list[Path]) -> dict[str, float]:
    """What one 64 MiB block costs on its own, here: read, evidence, and what crosses."""
    part = ikd.plan(paths)[1]
    names = [str(p) for p in paths]
    settings = ik.diagnose.__globals__["evidence_settings"]()
    t0 = time.perf_counter()
    df = ikd._read_part(part, names, {})
    t1 = time.perf_counter()
    ev = ik.evidence(df, settings)
    t2 = time.perf_counter()
    return {
        "bytes": (part.stop or 0) - part.start,
        "rows": len(df),
        "read": t1 - t0,
        "evidence": t2 - t1,
        "frame_mb": df.memory_usage(deep=True).sum() / 2**20,
        "evidence_kb": len(pickle.dumps(ev)) / 1024,
        "edge_rows": len(ev.head) + len(ev.tail) if ev.head is not None else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path("/tmp/incidentkit-bench"))
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "scaling.md")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    from distributed import Client

    paths = logs(args.work, args.records, args.files)
    size_mb = sum(p.stat().st_size for p in paths) / 2**20
    parts = len(ikd.plan(paths))
    cluster = ikd.local_cluster(2)
    client = Client(cluster)
    try:
        times: dict[str, list[float]] = {"serial": [], "dask, 2 workers": []}
        results: dict[str, Any] = {}
        for _ in range(args.reps):
            for name, fn in (("serial", serial), ("dask, 2 workers", ikd.diagnose)):
                start = time.perf_counter()
                results[name] = fn(paths)
                times[name].append(time.perf_counter() - start)
                print(name, f"{times[name][-1]:.1f} s", flush=True)
        same = results["serial"].to_dict() == results["dask, 2 workers"].to_dict()
        workers = sorted(v / 1024 for v in client.run(bench_parse.high_water).values())
    finally:
        client.close()
        cluster.close()
    peak = serial_peak(paths)
    cost = one_partition(paths)
    d = results["serial"]
    write_report(args, paths, size_mb, parts, times, same, workers, peak, cost, d)


def write_report(
    args: argparse.Namespace,
    paths: list[Path],
    size_mb: float,
    parts: int,
    times: dict[str, list[float]],
    same: bool,
    workers: list[float],
    peak: tuple[float, float],
    cost: dict[str, float],
    d: ik.Diagnosis,
) -> None:
    med = {k: statistics.median(v) for k, v in times.items()}
    rows = ["| path | median (s) | runs (s) |", "| --- | --- | --- |"]
    for k, v in times.items():
        rows.append(f"| {k} | {med[k]:.1f} | {', '.join(f'{t:.1f}' for t in v)} |")
    speedup = med["serial"] / med["dask, 2 workers"]
    records = args.records * args.files
    per_part_s = cost["read"] + cost["evidence"]
    verdict = "the same" if same else "a DIFFERENT"
    judged = f"`{d.cause}`, {d.facts.get('queries', 0):,} queries judged"
    crossing = f"{cost['evidence_kb']:,.0f} kB, of which {cost['edge_rows']:,} rows at the seams"
    text = f"""# Scaling: incidentkit.dask

## What runs where

`incidentkit.dask.diagnose(paths)` plans the partitions on the client: one per capture
file or gzip file, and blocks of about 64 MiB (`blocksize=`) of each plain-text log whose
times carry the date (`-tttt`, `-tt`), each block starting on a line that opens a record.
The client opens every input to do so (a missing or unreadable one is an error before any
work is sent), so the inputs must be at the same path on the client and the workers: a
shared file system, or the same copy on each machine.

Each worker then reads its partitions (the same reader as `incidentkit.read`, on its
byte range) and reduces each to its evidence (`incidentkit.evidence`): counters, capped
lists of record numbers, per-interval counts, and the rows of the first and last
2 × C of the partition's time span (C is the longer of the reply and retry windows, 5
minutes by default) for the seams. The frame of the partition is dropped on the worker;
**the evidence is what crosses the network**, never the partition's rows in the middle.
The evidence stays on the workers: the client learns each partition's counts and time
span, numbers each partition's records after those before it, and has the workers add
the evidence up pairwise, level by level, in time order (each input's blocks first, then
the inputs of each stream), pairing the queries at each seam with the answers and ICMP
errors on the other side; only the sum comes to the client, which judges it with the
same rules as `incidentkit.diagnose`.
`incidentkit.dask.dns_transactions` works the same way, and hands each partition the rows
within 2 × C of its ends from its neighbours.

So what crosses per partition is the DNS messages and ICMP errors of about
`2 × 2 × C` of its time at the seams, plus a few kB of counters, whatever the
partition's size; a worker holds about one partition's frame per thread at a time.

## Measured (`make bench`, `benchmarks/bench_dask.py`)

On {bench_parse.machine()}.

{args.files} text logs of {args.records:,} records each (`tcpdump -nn -tttt` of
`benchmarks/traffic.py`'s resolver mix, {GAP * 1000:.0f} ms apart: {args.records * GAP / 3600:.1f}
hours per log, the logs one after the other), {records:,} records, {size_mb:,.0f} MB,
{parts} partitions. The two paths alternate, {args.reps} runs each, in one process:

{chr(10).join(rows)}

- Dask on two workers: **{speedup:.2f} times** as fast as the serial path (the median
  runs), with {verdict} diagnosis ({judged}).
- Peak memory of each worker process: {", ".join(f"{w:.0f} MB" for w in workers)}.
- The serial path, in a process of its own: {peak[0]:,.0f} MB at its peak
  ({peak[1]:,.0f} MB above the imports): it holds the whole frame.

## One partition's costs, to estimate a volume

One {cost["bytes"] / 2**20:.0f} MiB block of these logs ({cost["rows"]:,.0f} records), on
this machine's one core:

| step | cost |
| --- | --- |
| read it into the schema's frame | {cost["read"]:.2f} s ({cost["frame_mb"]:.0f} MB of frame) |
| its evidence | {cost["evidence"]:.2f} s |
| the evidence, pickled (what crosses the network, between workers) | {crossing} |

A day of captures of `B` bytes in text on `N` workers of one core each takes about
`B / {cost["bytes"] / 2**20:.0f} MiB × {per_part_s:.1f} s / N`, plus the seams (added on the
workers, pairwise: about the evidence time of the seam rows per partition); each worker needs about
`{cost["frame_mb"]:.0f} MB` per block of this size it reads at once (one per thread)
above its imports. A pcap partition is one whole file: size the files (tcpdump `-C`/`-G`)
to what a worker may hold.

## Reproduce

```sh
make bench                                              # all benchmarks; writes this file
.venv/bin/python benchmarks/bench_dask.py --records 100000 --files 4 --reps 1 --out /tmp/s.md
```
"""
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
