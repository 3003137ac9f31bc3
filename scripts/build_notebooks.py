"""Write the notebooks and execute them on the seed's log.

The clean notebooks, with neutral parameters, go into the package
(``incidentkit/notebooks/``): ``incidentkit report`` runs them wherever the package is
installed. Each is then executed by papermill with the seed's incident as parameters into
``notebooks/``, committed executed so nbval can re-run them and compare outputs; this
script is how both are made (``make notebooks``). Volatile metadata (papermill's
timings and paths) is stripped so the files hold nothing of the machine that ran them.

Usage: python scripts/build_notebooks.py
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import papermill
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from incidentkit.report import KERNEL_QUIET

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
PACKAGED = ROOT / "incidentkit" / "notebooks"  # the clean notebooks the package ships

PARAMETERS = """\
log_path: str = ""  # the capture: a tcpdump text log or a pcap/pcapng file (plain or .gz); required
more_logs: list = []  # more inputs judged with it: other sensors, the rest of a rotated capture
capture_date: str = ""  # day of a text log's capture, YYYY-MM-DD; "" when the log does not say
site_domain: str = ""  # the site users could not reach; "" when not given
expected_address: str = ""  # the address the site should resolve to; "" when unknown
dns_server: str = ""  # the DNS server to judge; "" finds every one in the capture
reported_at: str = ""  # when the incident was reported (a time of day, or date and time)
symptom: str = ""  # the error users reported, in their words
analyst: str = ""  # who writes this report
organisation: str = ""  # on whose behalf
dos_threshold: float = 0.0  # new queries a second that make a flood; 0 derives it from the capture
ddos_min_sources: int = 10  # from this many source addresses a flood is a distributed one
"""

#: The seed's incident, passed to the committed example report (and by ``make report``).
SEED = {
    "log_path": "../data/yummyrecipesforme_dns_icmp.log",
    "site_domain": "yummyrecipesforme.com",
    "reported_at": "1:24 PM",
    "symptom": "destination port unreachable",
}

SETUP = """\
from pathlib import Path

import incidentkit as ik

if not log_path:
    raise ValueError("set the parameter log_path to the capture to report on")
inputs = [log_path, *more_logs]
df = ik.read(inputs if more_logs else log_path, date=capture_date or None, progress=False)
diagnosis = ik.diagnose(df, server=dns_server or None, domain=site_domain or None,
                        expected_address=expected_address or None,
                        dos_threshold=dos_threshold or None, ddos_min_sources=ddos_min_sources)
transactions = ik.dns_transactions(df)
story = ik.Story(df, diagnosis, transactions, reported_at=reported_at or None,
                 symptom=symptom, site=site_domain or None,
                 capture=", ".join(Path(p).name for p in inputs),
                 analyst=analyst, organisation=organisation)
story.front()"""


KERNEL = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def figure(call: str) -> str:
    return f'fig, ax = plt.subplots(figsize=(10, 3.6), layout="constrained")\n{call}\nik.show(fig)'


def report() -> nbformat.NotebookNode:
    md, code = new_markdown_cell, new_code_cell
    cells = [
        code(PARAMETERS, metadata={"tags": ["parameters"]}),
        code(SETUP),
        md(
            "This report follows the incident from the users' complaint to its cause. "
            "Every statement about the incident below is computed from the capture named "
            "above and cites the input lines (or frames) it rests on."
        ),
        md("## Part 1: problem summary\n\nWhat was reported, and what the capture shows of it."),
        md(
            "### 1. When the incident was reported\n\nWhen did users report the problem, "
            "and when does the capture first show it?"
        ),
        code("story.reported()"),
        md(
            "### 2. What users saw\n\nThe error users reported, and what in the capture matches it."
        ),
        code("story.symptom_seen()"),
        md(
            "### 3. Which protocol carried the failing traffic\n\nThe transport protocol "
            "and service of the packets that failed."
        ),
        code("story.protocol()"),
        md(
            "### 4. The ICMP error messages\n\nEach ICMP error, who sent it, what it is "
            "about and what it means; then every DNS query and what came of it on one "
            "time axis."
        ),
        code("story.icmp()"),
        code("story.timeline()"),
        md(
            "### 5. The port and its service\n\nWhich port the failing traffic went to, "
            "and which service listens there."
        ),
        code("story.port()"),
        md(
            "## Part 2: analysis and solution summary\n\nThe capture's evidence, then each "
            "possible cause in turn: the server is down or a firewall blocks the port; a "
            "flood of traffic; a misconfigured server."
        ),
        md(
            "### 1. The capture's evidence\n\nEvery DNS query, the attempt it was, and "
            "what came of it; the clients that asked the most."
        ),
        code("story.evidence()"),
        code("story.top_talkers()"),
        code("story.transactions_table()"),
        code("story.latency()"),
        md(
            "### 2. Is the DNS server down, or is its port blocked by a firewall?\n\n"
            "An error sent by the server itself shows the host is up; errors from a router, "
            "administrative-prohibition codes, or silence while the server answers other "
            "traffic point at a filter; host-unreachable errors point at a host that is "
            "gone."
        ),
        code('story.hypotheses("service_down", "host_down", "firewall")'),
        code("story.icmp_figure()"),
        md(
            "### 3. Is there a flood of traffic to the DNS port?\n\nA denial of service "
            "shows as a rate of new queries far above the capture's own baseline, from one "
            "source or many; clients retrying a failing server raise the rate too, but "
            "they ask the same questions again, and retries do not count."
        ),
        code('story.hypotheses("dos")'),
        code("story.rate()"),
        md(
            "### 4. Is the DNS server misconfigured?\n\nIf the server answers, its answers "
            "show a misconfiguration: refusals, server failures, a missing name or address, "
            "an address other than the expected one, or answers from an address the "
            "clients never asked. Answers that come after the clients gave up show a "
            "server too slow for them."
        ),
        code('story.hypotheses("misconfiguration", "slow_server", "none")'),
        md(
            "### 5. Conclusion\n\nThe cause, how sure the capture makes it, and what it "
            "leaves open."
        ),
        code("story.conclusion()"),
        md("## Next steps for the engineers"),
        code("story.next_steps()"),
        md("## Evidence\n\nThe input lines behind the conclusion, exactly as captured."),
        code("story.evidence_lines()"),
    ]
    nb = new_notebook(cells=cells)
    nb.metadata["title"] = "DNS incident follow-up report"
    return nb


def explore() -> nbformat.NotebookNode:
    md, code = new_markdown_cell, new_code_cell
    cells = [
        md(
            "# Explore a capture\n\nLoad a tcpdump log or a capture file, filter it with "
            "the explorer, and draw the figures. For open-ended work in JupyterLab; the "
            "follow-up report is `dns_incident_report.ipynb`."
        ),
        code(
            'log_path: str = ""  # the capture: a tcpdump text log or a pcap/pcapng file '
            "(plain or .gz); required\n"
            'capture_date: str = ""  # YYYY-MM-DD, for text logs that print only times',
            metadata={"tags": ["parameters"]},
        ),
        code(
            "import matplotlib.pyplot as plt\n\nimport incidentkit as ik\n\n"
            "df = ik.read(log_path, date=capture_date or None)\n"
            "print(ik.summarize(df))"
        ),
        md(
            "## The explorer\n\nFilters for protocol, host, port, DNS name, outcome and time; "
            "the timeline and the table follow them."
        ),
        code("# NBVAL_IGNORE_OUTPUT\nik.explore(df)"),
        md("## What the diagnosis says"),
        code("print(ik.describe(ik.diagnose(df), df))"),
        md("## Figures"),
        code(figure("ik.plot_timeline(df, ax=ax)")),
        code(figure("ik.plot_rate(df, ax=ax)")),
    ]
    nb = new_notebook(cells=cells)
    nb.metadata["title"] = "Explore a capture"
    return nb


def strip(path: Path) -> None:
    """Drop papermill's timings and paths; keep outputs."""
    nb = nbformat.read(str(path), as_version=4)
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
    nb.metadata["kernelspec"] = KERNEL
    nbformat.write(nb, str(path))


def main() -> None:
    PACKAGED.mkdir(exist_ok=True)
    for name, build, parameters in (
        ("dns_incident_report.ipynb", report, SEED),
        ("explore.ipynb", explore, {"log_path": SEED["log_path"]}),
    ):
        clean, path = PACKAGED / name, NOTEBOOKS / name
        nb = build()
        nb.metadata["kernelspec"] = KERNEL
        nb.metadata["language_info"] = {"name": "python"}
        nbformat.write(nb, str(clean))
        papermill.execute_notebook(
            str(clean),
            str(path),
            parameters=parameters,
            kernel_name="python3",
            cwd=str(NOTEBOOKS),
            progress_bar=False,
            extra_arguments=KERNEL_QUIET,
        )
        strip(path)
        print(clean.relative_to(ROOT), "->", path.relative_to(ROOT))


if __name__ == "__main__":
    main()
