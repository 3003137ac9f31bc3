"""Reading a large log in a notebook shows a progress bar there; the terminal's stays
on stderr."""

from __future__ import annotations

import nbformat
from conftest import SEED_LOG
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

from incidentkit.progress import PROGRESS_ABOVE
from incidentkit.report import KERNEL_QUIET


def big_log(tmp_path):
    line = SEED_LOG.read_text().splitlines()[0] + "\n"
    log = tmp_path / "big.log"
    log.write_text(line * (PROGRESS_ABOVE // len(line) + 100))
    return log


def run(cells, cwd):
    nb = new_notebook(cells=[new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    client = NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    )
    client.extra_arguments = KERNEL_QUIET
    client.execute()
    return nb


def test_a_large_log_read_in_a_notebook_shows_a_bar_then_a_line(tmp_path):
    log = big_log(tmp_path)
    nb = run(
        [
            "import incidentkit as ik\n"
            "from IPython.display import display\n"
            "import incidentkit.progress as p\n"
            "shown = []\n"
            "real = p.NotebookBar.__call__\n"
            "p.NotebookBar.__call__ = lambda self, d, t: (shown.append(d), real(self, d, t))[1]\n"
            f"df = ik.read_tcpdump({str(log)!r})",
            "print(len(df), len(shown) >= 1, shown[-1] == " + str(log.stat().st_size) + ")",
        ],
        tmp_path,
    )
    outputs = nb.cells[0].outputs
    html = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    rows = sum(1 for _ in log.open())
    # the bar was drawn and filled, then replaced by what was read: no widget is left
    assert html == [f"<small>read big.log: {rows * 2:,} rows</small>"]
    assert not any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)
    assert nb.cells[1].outputs[0]["text"] == f"{rows * 2} True True\n"


def test_no_bar_for_a_small_log_or_when_asked_for_none(tmp_path):
    log = big_log(tmp_path)
    nb = run(
        [
            f"import incidentkit as ik\ndf = ik.read_tcpdump({str(SEED_LOG)!r})",
            f"df = ik.read_tcpdump({str(log)!r}, progress=False)",
        ],
        tmp_path,
    )
    assert nb.cells[0].outputs == [] and nb.cells[1].outputs == []
    nbformat.validate(nb)
