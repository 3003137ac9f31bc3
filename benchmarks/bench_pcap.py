"""How fast incidentkit reads capture files, side by side in one run (``make bench``).

For each size, the deterministic capture of benchmarks/traffic.py (a busy resolver's mix:
DNS over IPv4 and IPv6, ICMP errors, TCP, ARP) is written as a pcap. Then, in the same
process, alternating:

(a) ``incidentkit.read_pcap(path)``, the compiled decoder (``--reps`` runs);
(b) ``tcpdump -nn -r FILE > /dev/null``: tcpdump printing the same packets (``--reps``);
(c) the loop an analyst writes with dpkt: each packet through ``dpkt.ethernet.Ethernet``,
    its addresses, ports and DNS fields into a dict, the dicts into ``pd.DataFrame``
    (once: it is slow);
(d) ``tshark -n -r FILE -T fields -e ...`` of the same fields into /dev/null (once);
(e) ``incidentkit.read_pcap(path, engine="python")`` up to ``--python-up-to`` packets.

The medians go to docs/performance-pcap.md, with the range of single runs, the growth from
1M to 3M packets and the reader's peak memory (in a process of its own) against the
file's size. At about 1M packets it also times ``dns_transactions`` and ``diagnose`` on
the frame read (``--reps`` runs each), and says where the frame's memory goes.

Usage: python benchmarks/bench_pcap.py [--sizes 100000 1000000 3000000] [--reps 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.compute as pc

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import bench_parse  # noqa: E402
import traffic  # noqa: E402

import incidentkit as ik  # noqa: E402

TSHARK_FIELDS = (
    "frame.number", "frame.time_epoch", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst",
    "udp.srcport", "udp.dstport", "tcp.srcport", "tcp.dstport", "dns.id",
    "dns.flags.response", "dns.qry.name", "dns.qry.type", "dns.flags.rcode", "icmp.type",
    "icmp.code",
)  # fmt: skip


def read_pcap(path: Path) -> pd.DataFrame:
    return ik.read_pcap(path)


def read_pcap_python(path: Path) -> pd.DataFrame:
    return ik.read_pcap(path, engine="python")


def tcpdump(path: Path) -> None:
    subprocess.run(
        ["tcpdump", "-nn", "-r", str(path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=True,
    )


def tshark(path: Path) -> None:
    fields = [arg for f in TSHARK_FIELDS for arg in ("-e", f)]
    subprocess.run(
        ["tshark", "-n", "-r", str(path), "-T", "fields", *fields],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=True,
        env={**os.environ, "HOME": "/nonexistent"},
    )


def dpkt_loop(path: Path) -> pd.DataFrame:
    """The DataFrame an analyst builds with dpkt, packet by packet."""
    import dpkt

    rows = []
    with open(path, "rb") as handle:
        for ts, buf in dpkt.pcap.Reader(handle):
            row: dict[str, Any] = {"time": ts, "length": len(buf)}
            eth = dpkt.ethernet.Ethernet(buf)
            ip = eth.data
            if isinstance(ip, dpkt.ip.IP):
                row["src"], row["dst"] = socket.inet_ntoa(ip.src), socket.inet_ntoa(ip.dst)
            elif isinstance(ip, dpkt.ip6.IP6):
                row["src"] = socket.inet_ntop(socket.AF_INET6, ip.src)
                row["dst"] = socket.inet_ntop(socket.AF_INET6, ip.dst)
            else:
                rows.append(row)
                continue
            l4 = ip.data
            if isinstance(l4, (dpkt.udp.UDP, dpkt.tcp.TCP)):
                row["sport"], row["dport"] = l4.sport, l4.dport
                if isinstance(l4, dpkt.udp.UDP) and 53 in (l4.sport, l4.dport):
                    try:
                        dns = dpkt.dns.DNS(l4.data)
                    except (dpkt.UnpackError, IndexError):
                        dns = None
                    if dns is not None:
                        row["dns_id"], row["dns_qr"] = dns.id, dns.qr
                        row["dns_rcode"] = dns.rcode
                        if dns.qd:
                            row["dns_qname"], row["dns_qtype"] = dns.qd[0].name, dns.qd[0].type
            elif isinstance(l4, dpkt.icmp.ICMP):
                row["icmp_type"], row["icmp_code"] = l4.type, l4.code
            rows.append(row)
    df = pd.DataFrame(rows)
    df["time"] = pd.to_datetime(df["time"], unit="s")
    return df


METHODS = {
    "read_pcap": read_pcap,
    "tcpdump -nn -r": tcpdump,
    "dpkt loop": dpkt_loop,
    "tshark -T fields": tshark,
    "engine=python": read_pcap_python,
}
#: run once per size (minutes each at 1M packets), at 1M packets only
ONCE = ("dpkt loop", "tshark -T fields")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000, 3_000_000])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--work", type=Path, default=Path("/tmp/incidentkit-bench"))
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "performance-pcap.md")
    parser.add_argument("--python-up-to", type=int, default=100_000)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    missing = [tool for tool in ("tcpdump", "tshark") if shutil.which(tool) is None]
    if missing:
        sys.exit(
            f"bench_pcap: {', '.join(missing)} not installed (apt-get install {' '.join(missing)})"
        )

    results = []
    near = min(args.sizes, key=lambda s: abs(s - 1_000_000))  # the slow tools run here
    for n in args.sizes:
        path = args.work / f"mix-{n}.pcap"
        if not path.exists():
            traffic.write_pcap(path, n)
        packets = len(ik.read_pcap(path))
        methods = ["read_pcap", "tcpdump -nn -r"]
        if n <= args.python_up_to:
            methods.append("engine=python")
        times: dict[str, list[float]] = {m: [] for m in methods}
        for _ in range(args.reps):
            for m in methods:
                times[m].append(bench_parse.timed(METHODS[m], path))
        if n == near:
            for m in ONCE:
                times[m] = [bench_parse.timed(METHODS[m], path)]
        row = {
            "packets": packets,
            "mb": path.stat().st_size / 2**20,
            "times": times,
            "median": {m: statistics.median(v) for m, v in times.items()},
        }
        results.append(row)
        print({k: v for k, v in row.items() if k != "times"}, flush=True)
    mid = results[args.sizes.index(near)]
    frame = ik.read_pcap(args.work / f"mix-{near}.pcap")
    mid["analysis"] = analysis_times(frame, args.reps)
    mid["frame_memory"] = frame_memory(frame)
    del frame
    memory = bench_parse.peak_memory("read_pcap", args.work / f"mix-{near}.pcap", "bench_pcap")
    write_report(args, results, mid, memory)


def analysis_times(frame: pd.DataFrame, reps: int) -> dict[str, list[float]]:
    """Seconds of each run of ``dns_transactions`` and ``diagnose`` on ``frame``."""
    out: dict[str, list[float]] = {"dns_transactions": [], "diagnose": []}
    for _ in range(reps):
        for name, fn in (("dns_transactions", ik.dns_transactions), ("diagnose", ik.diagnose)):
            start = time.perf_counter()
            fn(frame)
            out[name].append(time.perf_counter() - start)
    return out


def frame_memory(frame: pd.DataFrame) -> dict[str, float]:
    """Bytes the frame's columns hold, in parts: the text columns' characters and their
    offsets and validity (pandas keeps ``string[pyarrow]`` as ``large_string``: 8 bytes
    of offset per row), ``raw`` and ``info`` on their own, and the other columns."""
    parts = dict.fromkeys(
        ("raw", "info", "other text: characters", "other text: offsets, validity", "the rest"), 0.0
    )
    for name in frame.columns:
        column = frame[name]
        if not isinstance(column.dtype, pd.StringDtype):
            parts["the rest"] += column.memory_usage(index=False, deep=False)
            continue
        arr: Any = column.array.__arrow_array__()
        chars = float(pc.sum(pc.binary_length(arr)).as_py() or 0)
        rest = 8.0 * (len(arr) + arr.num_chunks) + len(arr) / 8
        if name in ("raw", "info"):
            parts[name] += chars + rest
        else:
            parts["other text: characters"] += chars
            parts["other text: offsets, validity"] += rest
    return parts


def write_report(
    args: argparse.Namespace,
    results: list[dict[str, Any]],
    mid: dict[str, Any],
    memory: tuple[float, float],
) -> None:
    names = list(METHODS)
    head = "| packets | MB | " + " | ".join(f"{m} (s)" for m in names) + " |"
    rows = [head, "|" + " --- |" * (len(names) + 2)]
    for r in results:
        cells = []
        for m in names:
            if m not in r["times"]:
                cells.append("")
                continue
            runs = r["times"][m]
            spread = f" ({min(runs):.2f}-{max(runs):.2f})" if len(runs) > 1 else ""
            cells.append(f"{r['median'][m]:.2f}{spread}")
        rows.append(f"| {r['packets']:,} | {r['mb']:.0f} | " + " | ".join(cells) + " |")
    read = mid["median"]["read_pcap"]
    ratios = [
        f"- {m}: {mid['median'][m] / read:.1f} times read_pcap's time"
        for m in names[1:]
        if m in mid["median"]
    ]
    by_size = {r["packets"]: r["median"]["read_pcap"] for r in results}
    sizes = sorted(by_size)
    growth = ""
    if len(sizes) >= 2:
        a, b = sizes[-2], sizes[-1]
        growth = (
            f"{b:,} / {a:,} packets: {by_size[b] / by_size[a]:.2f} times the time "
            f"(linear is {b / a:.2f})."
        )
    peak, above = memory
    analysis = [
        f"- `{name}`: {statistics.median(runs):.2f} s ({min(runs):.2f}-{max(runs):.2f})"
        for name, runs in mid["analysis"].items()
    ]
    parts = mid["frame_memory"]
    file_mb = mid["mb"]
    memory_rows = "\n".join(
        f"| {name} | {size / 2**20:.0f} | {size / 2**20 / file_mb:.2f} |"
        for name, size in [*parts.items(), ("the frame", sum(parts.values()))]
    )
    text_share = (parts["raw"] + parts["info"]) / 2**20 / file_mb
    offset_share = parts["other text: offsets, validity"] / 2**20 / file_mb
    text = f"""# Performance: capture files

Measured by `make bench` (`benchmarks/bench_pcap.py`) on {bench_parse.machine()}.
Each time is the median of the runs shown in brackets (their range), the methods
alternating in one process; the dpkt loop and tshark run once, at about 1M packets.
The captures are generated deterministically by `benchmarks/traffic.py`.

{chr(10).join(rows)}

At {mid["packets"]:,} packets ({mid["mb"]:.0f} MB):

{chr(10).join(ratios)}

{growth}

Analysis of the frame read from it (median of the runs, their range):

{chr(10).join(analysis)}

Peak memory of read_pcap on {mid["packets"]:,} packets, in a process of its own: {peak:.0f} MB
in all, {above:.0f} MB above the imports ({above / mid["mb"]:.2f} times the file's size).

Where the frame's memory goes (MB, and times the file's size):

| part | MB | × file |
| --- | --- | --- |
{memory_rows}

The file is mapped and each part's pages are given back once it is decoded, so the peak
is the frame and little more. What the schema asks of the frame is most of it: `raw` (each
packet as tcpdump prints it) and `info` alone are {text_share:.2f} times the file's size,
and the offsets of the other text columns (8 bytes per row each, whatever they hold)
{offset_share:.2f} times.

## Reproduce

```sh
make bench                                                  # writes this file too
.venv/bin/python benchmarks/bench_pcap.py --sizes 100000 --reps 1 --out /tmp/p.md
```
"""
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
