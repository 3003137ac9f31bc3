"""Print an exported report to PDF with Debian's headless Chromium (never a downloaded
browser). The report is one self-contained HTML file, so nothing is fetched while it is
printed; host name resolution is switched off all the same."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from .browser import FLAGS, chromium_path

#: Flags for printing: on top of :data:`incidentkit.browser.FLAGS`.
PRINT_FLAGS = [
    "--headless",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--mute-audio",
    # no crash handler: it would run in a session of its own, out of the group's reach
    "--disable-breakpad",
    # no host name resolves: a report that tried to load anything would fail to, not leak
    "--host-resolver-rules=MAP * ~NOTFOUND",
    # let the page run to idle (images decoded, layout done) before printing
    "--virtual-time-budget=10000",
    "--no-pdf-header-footer",
]

#: How many of Chromium's last stderr lines an error quotes.
_STDERR_LINES = 12


def chromium_command(chromium: str, html: Path, pdf: Path, profile: Path) -> list[str]:
    """The command line that prints ``html`` to ``pdf`` with a throwaway ``profile``."""
    return [
        chromium,
        *FLAGS,
        *PRINT_FLAGS,
        f"--user-data-dir={profile}",
        f"--print-to-pdf={pdf}",
        html.resolve().as_uri(),
    ]


def _group_alive(pgid: int) -> bool:
    """Whether any process of group ``pgid`` is still running (zombies do not count)."""
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # fields after the command name (which may hold spaces): state ppid pgrp ...
        fields = stat.rpartition(")")[2].split()
        if len(fields) >= 3 and fields[2] == str(pgid) and fields[0] not in ("Z", "X"):
            return True
    return False


def _stop_group(proc: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    """Kill Chromium and every process it started (its own process group), and reap it."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace)
    deadline = time.monotonic() + grace
    while _group_alive(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.02)


def _tail(stderr: bytes, lines: int = _STDERR_LINES) -> str:
    text = stderr.decode("utf-8", "replace").splitlines()
    kept = [line for line in text if line.strip()][-lines:]
    return "\n".join(kept) if kept else "(nothing on stderr)"


def export_pdf(html: Path, output: Path, *, timeout: float = 120) -> Path:
    """Print the HTML report ``html`` to the PDF file ``output`` (A4, no header or footer).

    Chromium runs headless with a temporary profile, in a process group of its own that
    is killed when the call ends, so no browser process outlives it. The PDF is written
    to a temporary file beside ``output`` and moved into place: ``output`` is either a
    complete PDF or not there.

    Parameters
    ----------
    html : path
        The self-contained HTML report (see :func:`incidentkit.report.run_report`).
    output : path
        Where to write the PDF.
    timeout : float, default 120
        Seconds Chromium may take; it is stopped after that.

    Returns
    -------
    pathlib.Path
        The PDF file.

    Raises
    ------
    incidentkit.report.ReportError
        When ``html`` cannot be read, Chromium is not installed, fails, runs over the
        timeout, or writes no PDF.
    """
    from .report import ReportError, publish

    html = Path(html)
    output = Path(output)
    if not html.is_file():
        raise ReportError(f"{html}: no such HTML report to print to PDF")
    try:
        html.open("rb").close()
    except OSError as exc:
        raise ReportError(f"{html}: cannot be read to print to PDF ({exc.strerror})") from None
    try:
        chromium = chromium_path()
    except FileNotFoundError:
        raise ReportError(
            f"cannot print {html} to PDF: chromium was not found on PATH "
            "(install Debian's chromium: apt-get install chromium)"
        ) from None

    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".report-", suffix=".pdf", dir=output.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with (
            tempfile.TemporaryDirectory(
                prefix="incidentkit-chromium-", ignore_cleanup_errors=True
            ) as profile,
            tempfile.TemporaryFile() as stderr,
        ):
            command = chromium_command(chromium, html, tmp, Path(profile))
            try:
                proc = subprocess.Popen(
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=stderr,
                    start_new_session=True,
                )
            except OSError as exc:
                raise ReportError(
                    f"cannot print {html} to PDF: chromium ({chromium}) did not start: "
                    f"{exc.strerror} (install Debian's chromium: apt-get install chromium)"
                ) from None
            try:
                status = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                raise ReportError(
                    f"printing {html} to PDF ran over the timeout of {timeout:g} s: "
                    "chromium was stopped and no PDF was written"
                ) from None
            finally:
                # whatever happened, nothing Chromium started survives the call
                _stop_group(proc)
            stderr.seek(0)
            errors = stderr.read()
        if status != 0:
            raise ReportError(
                f"chromium failed to print {html} to PDF (exit status {status}); "
                f"the end of its stderr:\n{_tail(errors)}"
            )
        try:
            with tmp.open("rb") as handle:
                head = handle.read(5)
        except FileNotFoundError:
            head = b""
        if not head:
            raise ReportError(
                f"chromium wrote no PDF for {html} (the file is empty); "
                f"the end of its stderr:\n{_tail(errors)}"
            )
        if not head.startswith(b"%PDF"):
            raise ReportError(
                f"chromium's output for {html} is not a PDF (it starts with {head!r}); "
                f"the end of its stderr:\n{_tail(errors)}"
            )
        publish(tmp, output)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return output
