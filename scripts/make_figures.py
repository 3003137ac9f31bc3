"""Write the README's figures: each plot of incidentkit.plot for the seed's log.

Usage: python scripts/make_figures.py [OUTDIR]   (make figures; default docs/img)
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

import incidentkit as ik

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "img"
    out.mkdir(parents=True, exist_ok=True)
    df = ik.read_tcpdump(ROOT / "data" / "yummyrecipesforme_dns_icmp.log", date="2026-11-24")
    figures = {
        "timeline": lambda ax: ik.plot_timeline(df, ax=ax, reported_at="2026-11-24 13:24"),
        "rate": lambda ax: ik.plot_rate(df, ax=ax, freq="10s", threshold=100),
        "latency": lambda ax: ik.plot_latency(ik.dns_transactions(df), ax=ax),
        "icmp_errors": lambda ax: ik.plot_icmp_errors(df, ax=ax),
    }
    for name, draw in figures.items():
        fig, ax = plt.subplots(figsize=(9, 3.6), layout="constrained")
        draw(ax)
        fig.savefig(out / f"{name}.png", dpi=90, metadata={"Software": None})
        plt.close(fig)
        print(out / f"{name}.png")


if __name__ == "__main__":
    main()
