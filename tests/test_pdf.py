"""The report on paper: the HTML report printed to PDF by Debian's Chromium and read back
with poppler (pdftotext, pdftoppm). Page images are kept in tests/artifacts/pdf/ for a
person to look at."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT, SEED_LOG, rendering_path

import incidentkit as ik
from incidentkit.pdf import export_pdf
from incidentkit.report import ReportError

ARTIFACTS = ROOT / "tests" / "artifacts" / "pdf"
#: A4 in PostScript points, and the template's 15 mm page margin
A4 = (595.28, 841.89)
MARGIN = 15 / 25.4 * 72


@pytest.fixture
def tools():
    """Debian's chromium and poppler-utils: .ci/run installs them; without them the
    tests fail, they do not skip."""
    missing = [t for t in ("chromium", "pdftotext", "pdftoppm") if shutil.which(t) is None]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not installed: .ci/run installs them "
            "(apt-get install chromium poppler-utils)"
        )


needs_tools = pytest.mark.usefixtures("tools")
needs_chromium = pytest.mark.usefixtures("tools")


#: the reports printed, each built once: (log, run_report parameters)
REPORTS = {
    "seed": (
        SEED_LOG,
        {
            "capture_date": "2026-11-24",
            "site_domain": "yummyrecipesforme.com",
            "reported_at": "1:24 PM",
            "symptom": "destination port unreachable",
        },
    ),
    "firewall_reject": (
        rendering_path("firewall_reject", "n"),
        {"expected_address": "203.0.113.80", "reported_at": ""},
    ),
}


#: the processes started by export_pdf while subprocess.Popen is a _Popens
_STARTED: list[int] = []


class _Popens(subprocess.Popen):
    """subprocess.Popen that remembers the processes it started."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _STARTED.append(self.pid)


def _live_processes() -> list[tuple[int, int, int, str]]:
    """(pid, ppid, process group, name) of every process that is not a zombie."""
    try:
        import psutil
    except ImportError:
        psutil = None
    out = []
    if psutil is not None:
        for proc in psutil.process_iter(["pid", "ppid", "name", "status"]):
            if proc.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            try:
                pgid = os.getpgid(proc.info["pid"])
            except ProcessLookupError:
                continue
            out.append((proc.info["pid"], proc.info["ppid"], pgid, proc.info["name"] or ""))
        return out
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.find("(") + 1 : stat.rfind(")")]
        state, ppid, pgid = stat.rpartition(")")[2].split()[:3]
        if state not in ("Z", "X"):
            out.append((int(entry.name), int(ppid), int(pgid), name))
    return out


def assert_no_chromium_left(started: list[int]) -> None:
    """No process the test started (nor any in its process group) is alive, and no
    chromium is a child of the test process."""
    assert started, "export_pdf started no process"
    left = [
        p
        for p in _live_processes()
        if p[0] in started or p[2] in started or (p[1] == os.getpid() and "chrom" in p[3].lower())
    ]
    assert not left, f"processes left behind by export_pdf: {left}"


@dataclass
class Printed:
    name: str
    html: Path
    pdf: Path
    seconds: float
    started: list[int]


@pytest.fixture(scope="module", params=sorted(REPORTS))
def printed(request, tmp_path_factory):
    missing = [t for t in ("chromium", "pdftotext", "pdftoppm") if shutil.which(t) is None]
    if missing:
        pytest.fail(f"{', '.join(missing)} not installed (.ci/run installs them)")
    name = request.param
    log, params = REPORTS[name]
    out = tmp_path_factory.mktemp(f"pdf-{name}")
    html = ik.run_report(log, out / f"{name}.html", parameters=params)
    _STARTED.clear()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(subprocess, "Popen", _Popens)
        start = time.perf_counter()
        pdf = export_pdf(html, out / f"{name}.pdf")
        seconds = time.perf_counter() - start
    return Printed(name, html, pdf, seconds, list(_STARTED))


def pdftotext(pdf: Path, *flags: str) -> str:
    result = subprocess.run(
        ["pdftotext", *flags, str(pdf), "-"], capture_output=True, check=True, timeout=60
    )
    return result.stdout.decode("utf-8")


def headings(executed: Path) -> list[str]:
    """Every markdown heading of the executed notebook, without its '#'s and markup."""
    nb = nbformat.read(str(executed), as_version=4)
    found = []
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            if line.startswith("#"):
                text = re.sub(r"\*\*|`", "", line.lstrip("#"))
                found.append(" ".join(text.split()))
    return found


class _Tables(HTMLParser):
    """The text of every cell of the report's ``ik-table`` tables, row by row."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._in_table = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table" and "ik-table" in (dict(attrs).get("class") or "").split():
            self._in_table = True
            self.tables.append([])
        elif self._in_table and tag == "tr":
            self.tables[-1].append([])
        elif self._in_table and tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "table":
            self._in_table = False
        elif self._cell is not None and tag in ("td", "th"):
            self.tables[-1][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def ik_tables(html: Path) -> list[list[list[str]]]:
    parser = _Tables()
    parser.feed(html.read_text(encoding="utf-8"))
    return parser.tables


@needs_tools
def test_pdf_is_a_pdf_and_no_chromium_outlives_the_call(printed):
    # the page printed needs nothing from a network (chromium resolves no host anyway)
    html = printed.html.read_text(encoding="utf-8")
    assert not re.search(r"""(?:src|href)=["']?(?:https?:)?//|url\(["']?(?:https?:)?//""", html)
    assert printed.pdf.read_bytes().startswith(b"%PDF")
    # only the PDF, the HTML and the executed notebook: no temporary file left beside them
    assert sorted(p.name for p in printed.pdf.parent.iterdir()) == sorted(
        [printed.html.name, printed.html.with_suffix(".ipynb").name, printed.pdf.name]
    )
    assert_no_chromium_left(printed.started)
    print(f"{printed.name}: export_pdf took {printed.seconds:.1f} s")


@needs_tools
def test_pdf_holds_every_heading_of_the_notebook(printed):
    text = " ".join(pdftotext(printed.pdf, "-layout").split())
    expected = headings(printed.html.with_suffix(".ipynb"))
    assert len(expected) >= 10
    missing = [h for h in expected if h not in text]
    assert not missing, f"headings not in the PDF's text: {missing}"


@needs_tools
def test_tables_fit_the_page(printed):
    text = pdftotext(printed.pdf, "-layout")
    squeezed = re.sub(r"\s+", "", text)
    tables = {t[0][-1]: t for t in ik_tables(printed.html) if t and t[0]}
    # the ICMP errors' table and the DNS transactions' table, up to their last column
    assert {"meaning", "latency (s)"} <= set(tables), sorted(tables)
    for last in ("meaning", "latency (s)"):
        header, *rows = tables[last]
        for word in last.split():
            assert re.search(rf"(?<!\S){re.escape(word)}", text), (last, word)
        # every header, and every cell of the last column, is on the page in full
        for cell in [*header, *(row[-1] for row in rows if row)]:
            for word in cell.split():
                assert word in squeezed, (last, cell, word)
    # A4 pages, and no word past the right-hand margin
    box = pdftotext(printed.pdf, "-bbox")
    pages = re.findall(r'<page width="([\d.]+)" height="([\d.]+)">', box)
    assert pages
    for width, height in pages:
        assert abs(float(width) - A4[0]) < 2 and abs(float(height) - A4[1]) < 2
    right = max(
        float(x) for x in re.findall(r'<word xMin="[\d.]+" yMin="[\d.]+" xMax="([\d.]+)"', box)
    )
    assert right <= A4[0] - MARGIN + 2, f"a word reaches {right:.1f} pt of {A4[0]:.1f}"


@needs_tools
def test_page_images_are_saved(printed):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob(f"{printed.name}-*.png"):
        old.unlink()
    shutil.copyfile(printed.pdf, ARTIFACTS / f"{printed.name}.pdf")
    subprocess.run(
        ["pdftoppm", "-png", "-r", "50", str(printed.pdf), str(ARTIFACTS / printed.name)],
        check=True,
        timeout=60,
    )
    pngs = sorted(ARTIFACTS.glob(f"{printed.name}-*.png"))
    assert pngs, f"pdftoppm wrote no page image into {ARTIFACTS}"
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in pngs)


def test_missing_html_is_named(tmp_path):
    missing = tmp_path / "nowhere" / "report.html"
    with pytest.raises(ReportError, match=re.escape(str(missing))):
        export_pdf(missing, tmp_path / "report.pdf")
    assert not (tmp_path / "report.pdf").exists()


def test_missing_chromium_says_how_to_install_it(tmp_path, monkeypatch):
    html = tmp_path / "r.html"
    html.write_text("<!DOCTYPE html><title>r</title><h1>r</h1>")
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(ReportError, match=r"chromium") as caught:
        export_pdf(html, tmp_path / "r.pdf")
    assert str(html) in str(caught.value)
    assert "apt-get install chromium" in str(caught.value)
    assert not (tmp_path / "r.pdf").exists()


def fake_chromium(tmp_path: Path, monkeypatch, script: str) -> Path:
    """Put a ``chromium`` running ``script`` (sh) first on PATH; return a tiny page."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    exe = bin_dir / "chromium"
    exe.write_text("#!/bin/sh\n" + script)
    exe.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin")
    html = tmp_path / "r.html"
    html.write_text("<!DOCTYPE html><title>r</title><h1>r</h1>")
    return html


def test_chromium_failing_is_reported_with_its_stderr(tmp_path, monkeypatch):
    html = fake_chromium(
        tmp_path, monkeypatch, "echo 'noise' >&2\necho 'FATAL: no display' >&2\nexit 3\n"
    )
    out = tmp_path / "out" / "r.pdf"
    with pytest.raises(ReportError, match=r"exit status 3") as caught:
        export_pdf(html, out)
    assert str(html) in str(caught.value) and "FATAL: no display" in str(caught.value)
    assert list(out.parent.iterdir()) == []


@pytest.mark.parametrize("content", ["", "<html>not a pdf</html>"], ids=["empty", "not-pdf"])
def test_output_that_is_no_pdf_is_refused(tmp_path, monkeypatch, content):
    script = (
        'for arg in "$@"; do case "$arg" in --print-to-pdf=*) '
        f"printf '{content}' > \"${{arg#--print-to-pdf=}}\";; esac; done\n"
    )
    html = fake_chromium(tmp_path, monkeypatch, script)
    out = tmp_path / "out" / "r.pdf"
    with pytest.raises(ReportError, match=r"empty|not a PDF") as caught:
        export_pdf(html, out)
    assert str(html) in str(caught.value)
    assert list(out.parent.iterdir()) == []


@needs_chromium
def test_timeout_stops_chromium_and_leaves_nothing(tmp_path, monkeypatch):
    html = tmp_path / "r.html"
    html.write_text("<!DOCTYPE html><title>r</title><h1>r</h1>")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    _STARTED.clear()
    monkeypatch.setattr(subprocess, "Popen", _Popens)
    out = tmp_path / "out" / "r.pdf"
    with pytest.raises(ReportError, match=r"timeout") as caught:
        export_pdf(html, out, timeout=0.001)
    assert str(html) in str(caught.value)
    assert list(out.parent.iterdir()) == [], "a partial PDF or temporary file was left"
    assert list(scratch.iterdir()) == [], "chromium's temporary profile was left"
    assert_no_chromium_left(list(_STARTED))


@needs_tools
def test_the_command_line_writes_a_pdf_with_the_summary_first(tmp_path):
    out = tmp_path / "seed.pdf"
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("incidentkit")),
            "report",
            str(SEED_LOG),
            "-o",
            str(out),
            "-p",
            "site_domain",
            "yummyrecipesforme.com",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert out.read_bytes().startswith(b"%PDF") and out.with_suffix(".html").exists()
    text = " ".join(pdftotext(out).split())
    first = text[: text.index("Part 1: problem summary")]
    for words in (
        "Follow-up report: yummyrecipesforme.com, date unknown",
        "What failed",
        "Impact",
        "The DNS service on 203.0.113.2 is not running",
        "Confidence",
        "Ruled out",
        "Next step",
    ):
        assert words in first, words
