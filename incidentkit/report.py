"""The follow-up report: a parameterised notebook, executed by papermill, exported by
nbconvert to one self-contained HTML file with the code hidden."""

from __future__ import annotations

import contextlib
import html
import logging
import os
import re
import tempfile
import threading
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import nbformat
import pandas as pd

from .errors import IncidentkitError

#: The notebooks the package ships, with neutral parameters (``make notebooks`` writes
#: them; ``notebooks/`` holds them executed on the seed's incident).
NOTEBOOKS = Path(__file__).resolve().parent / "notebooks"
#: The report notebook.
DEFAULT_NOTEBOOK = NOTEBOOKS / "dns_incident_report.ipynb"
TEMPLATES = Path(__file__).resolve().parent / "templates"
#: The kernel's own log stays out of the user's terminal: its warnings (such as "running
#: over TCP without encryption"), and the error it logs when the interrupt that
#: jupyter_client sends every kernel it shuts down (SIGINT, then the shutdown request)
#: lands inside a message handler ("KeyboardInterrupt caught in kernel.", seen on a busy
#: machine). A failing cell is not the kernel's log: papermill raises it, with its
#: traceback, and the report says so.
KERNEL_QUIET = ["--IPKernelApp.log_level=CRITICAL"]
_H1 = re.compile(r"<h1[^>]*>(.*?)</h1>", re.S)


class ReportError(IncidentkitError):
    """The report could not be made; ``section`` names the part that failed."""

    def __init__(self, message: str, section: str | None = None) -> None:
        super().__init__(message)
        self.section = section


def reported_time(df: pd.DataFrame, reported_at: str | None) -> pd.Timestamp | None:
    """``reported_at`` ("13:24", "1:24 PM" or a full date and time) as a time on the
    capture's axis: a time of day is put on the day of the capture's first packet.

    Examples
    --------
    >>> from incidentkit import read_tcpdump
    >>> df = read_tcpdump("data/yummyrecipesforme_dns_icmp.log", date="2026-11-24")
    >>> reported_time(df, "1:24 PM")
    Timestamp('2026-11-24 13:24:00')
    """
    if not reported_at:
        return None
    try:
        when = pd.Timestamp(reported_at)
    except ValueError:
        return None
    times = df["time"].dropna()
    if len(times) and not any(ch in reported_at for ch in "-/"):
        first = times.min()
        when = pd.Timestamp.combine(first.date(), when.time())
        if first.tzinfo is not None:
            when = when.tz_localize(first.tzinfo)
    return when


def show(fig: Any) -> None:
    """Show a matplotlib figure in the notebook as a PNG whose alt text is its titles,
    then close it, so the exported report describes every figure it holds."""
    import io

    import matplotlib.pyplot as plt
    from IPython.display import Image, display

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    alt = "; ".join(ax.get_title() for ax in fig.axes if ax.get_title()) or "figure"
    display(Image(data=buffer.getvalue(), format="png"), metadata={"image/png": {"alt": alt}})
    plt.close(fig)


def notebook_parameters(
    notebook: str | os.PathLike[str] | None = None,
) -> dict[str, dict[str, Any]]:
    """The report notebook's parameters: name -> ``default``, ``type`` and ``help`` (the
    comment beside it), as papermill reads them from its ``parameters`` cell.

    Examples
    --------
    >>> p = notebook_parameters()
    >>> p["reported_at"]["default"], p["reported_at"]["type"]
    ('""', 'str')
    """
    import papermill

    source = Path(notebook) if notebook is not None else DEFAULT_NOTEBOOK
    with _quiet():
        found = papermill.inspect_notebook(str(source))
    return {
        name: {
            "default": p.get("default"),
            "type": p.get("inferred_type_name", "None"),
            "help": p.get("help", ""),
        }
        for name, p in found.items()
    }


@contextlib.contextmanager
def _quiet() -> Any:
    """Keep papermill's and the kernel client's log lines (the kernel's "running over
    TCP without encryption" warning among them) out of the user's terminal; errors still
    surface as exceptions."""
    names = ("papermill", "traitlets", "jupyter_client", "nbclient", "asyncio")
    loggers = [logging.getLogger(n) for n in names]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def _title(nb: Any) -> str | None:
    """The text of the first ``<h1>`` a cell's output shows (the report's own title)."""
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            found = _H1.search(str(output.get("data", {}).get("text/html", "")))
            if found:
                return html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip()
    return None


def _coerce(notebook: Path, parameters: Mapping[str, Any]) -> dict[str, Any]:
    """Turn command-line strings into the types of the notebook's defaults."""
    import papermill

    with _quiet():
        known = papermill.inspect_notebook(str(notebook))
    out: dict[str, Any] = {}
    for name, value in parameters.items():
        if name not in known:
            raise ReportError(
                f"the notebook has no parameter {name!r}; it has: {', '.join(sorted(known))}"
            )
        kind = known[name].get("inferred_type_name", "None")
        if isinstance(value, str) and kind in ("float", "int"):
            try:
                value = float(value) if kind == "float" else int(value)
            except ValueError:
                raise ReportError(f"parameter {name} takes a number, not {value!r}") from None
        out[name] = value
    return out


def _section_of(nb: Any, cell_index: int) -> str:
    """The heading of the markdown cell above ``cell_index``."""
    for cell in reversed(nb.cells[: cell_index + 1]):
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return "the start of the notebook"


def export_html(executed: Path, output: Path) -> Path:
    """Export an executed notebook to one HTML file with no code cells.

    Written to a temporary file first and moved into place, so ``output`` is either
    the complete report or not there.
    """
    from nbconvert import HTMLExporter

    nb = nbformat.read(str(executed), as_version=4)
    title = _title(nb)
    if title:
        nb.metadata["title"] = title
    exporter = HTMLExporter(
        template_name="incidentkit",
        extra_template_basedirs=[str(TEMPLATES)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    body, _ = exporter.from_notebook_node(nb)
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".report-", suffix=".html", dir=output.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(body)
        publish(Path(tmp), output)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return output


def publish(tmp: Path, output: Path) -> None:
    """Move the finished file ``tmp`` to ``output`` in one step, with the permissions a
    new file gets here (a temporary file is created readable by its owner only)."""
    os.chmod(tmp, 0o666 & ~_umask())
    os.replace(tmp, output)


_UMASK_LOCK = threading.Lock()


def _umask() -> int:
    """The process's umask, read without setting it where the system says it (Linux), so
    reports written from several threads at once never see another's passing value."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    with _UMASK_LOCK:  # (elsewhere: set and put back, one thread at a time)
        mask = os.umask(0)
        os.umask(mask)
    return mask


def run_report(
    log: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    output: str | os.PathLike[str] = "report.html",
    *,
    parameters: Mapping[str, Any] | None = None,
    notebook: str | os.PathLike[str] | None = None,
    timeout: int = 600,
) -> Path:
    """Execute the report notebook on ``log`` and export it to ``output``: HTML, or PDF
    when ``output`` ends in ``.pdf`` (printed by the system's Chromium).

    The executed notebook is kept beside the report (same name, ``.ipynb``); a PDF
    keeps its HTML beside it too. When a cell fails, :class:`ReportError` names the
    section it belongs to, the executed notebook is kept as ``NAME.failed.ipynb`` for
    inspection, and no report is left at ``output``.

    Parameters
    ----------
    log : path, or a list of paths
        The tcpdump log or capture file to report on; several (a site's sensors, a
        capture rotated into files) are judged together, and the report says what each
        one saw (the notebook's ``log_path`` and ``more_logs``).
    output : path, default "report.html"
        Where to write the report (``.html`` or ``.pdf``).
    parameters : mapping, optional
        Values for the notebook's ``parameters`` cell (strings are converted to the
        type of the notebook's default); :func:`notebook_parameters` lists them.
    notebook : path, optional
        Another report notebook; the package's ``dns_incident_report.ipynb`` by default.
    timeout : int, default 600
        Seconds any one cell may run.

    Returns
    -------
    pathlib.Path
        The report.
    """
    import papermill

    source = Path(notebook) if notebook is not None else DEFAULT_NOTEBOOK
    if not source.exists():
        raise ReportError(f"{source}: no such notebook")
    logs = [Path(p) for p in ([log] if isinstance(log, (str, os.PathLike)) else log)]
    if not logs:
        raise ReportError("no input to report on")
    for log_path in logs:
        if not log_path.exists():
            raise ReportError(f"{log_path}: no such file")
    out = Path(output).resolve()
    pdf = out.suffix.lower() == ".pdf"
    page = out.with_suffix(".html") if pdf else out
    executed = out.with_suffix(".ipynb")
    failed = out.with_suffix(".failed.ipynb")
    values = _coerce(source, dict(parameters or {}))
    values["log_path"] = str(logs[0].resolve())
    if len(logs) > 1:
        values["more_logs"] = [str(p.resolve()) for p in logs[1:]]
    out.parent.mkdir(parents=True, exist_ok=True)
    for stale in (out, page, failed):
        with contextlib.suppress(FileNotFoundError):
            stale.unlink()
    try:
        with _quiet():
            papermill.execute_notebook(
                str(source),
                str(executed),
                parameters=values,
                kernel_name="python3",
                cwd=str(out.parent),
                progress_bar=False,
                log_output=False,
                execution_timeout=timeout,
                extra_arguments=KERNEL_QUIET,
            )
    except papermill.PapermillExecutionError as exc:
        os.replace(executed, failed)
        nb = nbformat.read(str(failed), as_version=4)
        section = _section_of(nb, exc.cell_index)
        raise ReportError(
            f"the report failed in section '{section}': {exc.ename}: {exc.evalue} "
            f"(the executed notebook is {failed}; no report was written)",
            section,
        ) from None
    export_html(executed, page)
    if not pdf:
        return page
    from .pdf import export_pdf

    return export_pdf(page, out)
