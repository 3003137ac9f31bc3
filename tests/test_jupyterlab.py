"""The committed notebooks in a real JupyterLab, driven through Debian's Chromium.

A JupyterLab server (``tests/labserver.py``) serves a scratch copy of
``notebooks/`` and ``data/``; Playwright opens each notebook, checks that it opens
unmodified, runs all its cells and reads what a person would see; the explorer in
``explore.ipynb`` is driven with its own dropdown and text box. Nothing is saved.
Screenshots go to ``reports/screenshots/jupyterlab-*.png``.
"""

from __future__ import annotations

import hashlib
import json
import platform
import re
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import pytest
from labserver import LabServer, jupyterlab_missing, start_lab, stop_lab

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "reports" / "screenshots"
NOTEBOOKS = ("dns_incident_report.ipynb", "explore.ipynb")

# Every wait is bounded (milliseconds, as Playwright counts).
LOAD_MS = 60_000  # the page, its extensions and the notebook document
KERNEL_MS = 60_000  # the kernel started and idle
RUN_ALL_MS = 90_000  # Run All Cells, to the last cell's result
WIDGET_MS = 20_000  # the explorer's redraw after a change (it debounces 0.3 s)
CELL_MS = 30_000  # one probe cell

# --------------------------------------------------------------------------- page scripts
# window.jupyterapp is exposed by the server (LabApp.expose_app_in_browser).
_FIND = """(path) => {
    const app = window.jupyterapp;
    if (!app || !app.shell) return null;
    for (const w of app.shell.widgets('main')) {
        if (w.context && w.context.path === path) return w;
    }
    return null;
}"""

_LOADED_JS = f"""(path) => {{
    const w = ({_FIND})(path);
    return !!(w && w.context.isReady && w.content && w.content.widgets.length > 0
              && w.isVisible);
}}"""

_IDLE_JS = f"""(path) => {{
    const w = ({_FIND})(path);
    const kernel = w && w.sessionContext.session && w.sessionContext.session.kernel;
    return !!(kernel && kernel.status === 'idle' && kernel.connectionStatus === 'connected');
}}"""

# Wait until JupyterLab has written the kernel's spec and language into the notebook's
# metadata (it does so once the kernel is connected; this is what may make it dirty).
_SETTLED_JS = f"""async ([path, ms]) => {{
    const w = ({_FIND})(path);
    const kernel = w.sessionContext.session.kernel;
    const [spec, info] = await Promise.all([kernel.spec, kernel.info]);
    const canon = (v) => JSON.stringify(v, (k, x) => (x && typeof x === 'object'
        && !Array.isArray(x)) ? Object.fromEntries(Object.entries(x).sort()) : x);
    const same = (a, b) => canon(a) === canon(b);
    const deadline = Date.now() + ms;
    let settled = false;
    while (!settled && Date.now() < deadline) {{
        const meta = w.content.model.metadata;
        settled = !!(meta.kernelspec && meta.kernelspec.display_name === spec.display_name
                     && same(meta.language_info, info.language_info));
        if (!settled) await new Promise(r => setTimeout(r, 100));
    }}
    await new Promise(r => setTimeout(r, 500));  // (a last change would show by now)
    const tab = [...document.querySelectorAll('.lm-TabBar-tab')]
        .find(t => t.textContent.trim() === w.title.label);
    return {{
        settled,
        dirty: w.context.model.dirty,
        tab_dirty: !!(tab && tab.classList.contains('jp-mod-dirty')),
        title_class: w.title.className.trim(),
        model: JSON.stringify(w.context.model.toJSON()),
        kernel_display_name: spec.display_name,
        kernel_language_info: info.language_info,
    }};
}}"""

_RUN_ALL_JS = f"""async ([path, ms]) => {{
    const app = window.jupyterapp;
    const w = ({_FIND})(path);
    app.shell.activateById(w.id);
    await app.commands.execute('notebook:clear-all-cell-outputs');
    const run = app.commands.execute('notebook:run-all-cells');
    const timeout = new Promise(r => setTimeout(() => r('timed out'), ms));
    return String(await Promise.race([run, timeout]));
}}"""

_RAN_JS = f"""(path) => {{
    const w = ({_FIND})(path);
    const kernel = w.sessionContext.session && w.sessionContext.session.kernel;
    const cells = [...w.content.model.cells].filter(c => c.type === 'code');
    return cells.every(c => c.executionCount !== null)
        && !!kernel && kernel.status === 'idle';
}}"""

_OUTPUTS_JS = f"""(path) => {{
    const w = ({_FIND})(path);
    const cells = [...w.content.model.cells].map((c, i) => ({{
        index: i, type: c.type, source: c.sharedModel.getSource(),
        execution_count: c.type === 'code' ? c.executionCount : null,
        outputs: c.type === 'code' ? c.toJSON().outputs : [],
    }}));
    const stderr = [...w.node.querySelectorAll(
        '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
        .map(e => e.textContent);
    const outputText = [...w.node.querySelectorAll('.jp-OutputArea')]
        .map(e => e.textContent).join('\\n');
    return {{cells, stderr, outputText}};
}}"""

# Insert a code cell at the end, run it, return its outputs (the notebook is not saved).
_PROBE_JS = f"""async ([path, code, ms]) => {{
    const app = window.jupyterapp;
    const w = ({_FIND})(path);
    app.shell.activateById(w.id);
    const nb = w.content;
    nb.mode = 'command';
    nb.activeCellIndex = nb.widgets.length - 1;
    await app.commands.execute('notebook:insert-cell-below');
    if (nb.activeCell.model.type !== 'code') {{
        await app.commands.execute('notebook:change-cell-to-code');
    }}
    const cell = nb.activeCell;
    cell.model.sharedModel.setSource(code);
    const run = app.commands.execute('notebook:run-cell');
    const timeout = new Promise(r => setTimeout(() => r('timed out'), ms));
    const result = String(await Promise.race([run, timeout]));
    return {{result, count: cell.model.executionCount, outputs: cell.model.toJSON().outputs}};
}}"""

_PNG_JS = """async (img) => {
    const bytes = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
    return {src: img.src, size: bytes.length, head: [...bytes.slice(0, 8)],
            width: img.naturalWidth, height: img.naturalHeight};
}"""

# The kernel side of the explorer check: the notebook's own Explorer (the one the output
# area shows, found by its widget model id), a fresh one on the same frame, and the
# pairing on the whole capture.
_PROBE_CODE = """\
import gc as _gc, json as _json
import incidentkit as _ik, incidentkit.widgets as _w

def _legend(_e):
    _l = _e.ax.get_legend()
    return sorted(t.get_text() for t in _l.get_texts()) if _l is not None else []

def _shown(_e):
    _t = _e.shown_transactions
    return {{str(r): str(o) for r, o in zip(_t["query_record"], _t["outcome"])}}

_live = [o for o in _gc.get_objects()
         if isinstance(o, _w.Explorer) and getattr(o, "model_id", None) == {model_id!r}]
_fresh = _ik.explore(df, debounce=0)
_whole = _ik.dns_transactions(df)
print(_json.dumps({{
    "found": len(_live),
    "protocol": _live[0].protocol.value, "port": _live[0].port.value,
    "filtered": len(_live[0].filtered),
    "legend": _legend(_live[0]), "fresh_legend": _legend(_fresh),
    "shown": _shown(_live[0]),
    "whole": {{str(r): str(o) for r, o in zip(_whole["query_record"], _whole["outcome"])}},
}}))
_fresh.close()
del _live, _fresh, _whole
"""


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    missing = jupyterlab_missing()
    if missing:
        pytest.fail(missing)
    scratch = tmp_path_factory.mktemp("jupyterlab")
    try:
        server = start_lab(ROOT, scratch)
    except RuntimeError as exc:
        pytest.fail(f"JupyterLab did not start: {exc}")
    served = {p.name: _digest(p) for p in (server.root / "notebooks").iterdir() if p.is_file()}
    yield server
    leftovers = stop_lab(server)
    assert server.process.returncode is not None, "the JupyterLab server is still running"
    assert not leftovers, (
        "processes the JupyterLab server started outlived its shutdown (killed now):\n"
        + "\n".join(leftovers)
        + "\n"
        + server.log_tail()
    )
    after = {p.name: _digest(p) for p in (server.root / "notebooks").iterdir() if p.is_file()}
    assert after == served, "a notebook was saved: the tests must leave them as they are"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is not installed: it is a test extra (pip install -e '.[test]')")
    from incidentkit.browser import FLAGS, chromium_path

    try:
        executable = chromium_path()
    except FileNotFoundError as exc:
        pytest.fail(f"{exc}; .ci/run installs it")
    pw = sync_playwright().start()
    try:
        chromium = pw.chromium.launch(
            executable_path=executable, headless=True, args=FLAGS, timeout=60_000
        )
    except Exception as exc:
        pw.stop()
        pytest.fail(f"Debian's Chromium ({executable}) did not start under Playwright: {exc}")
    yield chromium
    chromium.close()
    pw.stop()


def _outside(url: str) -> bool:
    """A URL off this machine's server (the closed network refuses it)."""
    return url.startswith(("http:", "https:", "ws:", "wss:")) and (
        urllib.parse.urlsplit(url).hostname != "127.0.0.1"
    )


@dataclass
class Seen:
    """What the page said on its console and where it tried to go."""

    console_errors: list[str] = field(default_factory=list)
    #: console errors about a resource off this machine: the closed network's doing
    network_errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)


@pytest.fixture
def page(browser: Any, lab: LabServer, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 1400})
    context.set_default_timeout(30_000)
    tab = context.new_page()
    seen = Seen()

    def on_console(message: Any) -> None:
        where = (message.location or {}).get("url") or ""
        text = f"{message.text} (at {where})" if where else message.text
        if message.type == "error":
            outside = _outside(where) or any(url in message.text for url in seen.outside_requests)
            (seen.network_errors if outside else seen.console_errors).append(text)
        elif message.type == "warning":
            seen.warnings.append(text)

    def on_request(req: Any) -> None:
        if _outside(req.url):
            seen.outside_requests.append(req.url)

    tab.on("console", on_console)
    tab.on("pageerror", lambda error: seen.console_errors.append(f"page error: {error}"))
    tab.on("request", on_request)
    tab.on("requestfailed", lambda req: seen.failed_requests.append(req.url))
    tab.seen = seen
    yield tab
    SHOTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")
    (SHOTS / f"jupyterlab-{name}.console.json").write_text(json.dumps(vars(seen), indent=1))
    context.close()
    lab.shutdown_kernels()


# --------------------------------------------------------------------------- helpers
def _shot(page: Any, stem: str, locator: Any = None) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"jupyterlab-{stem}.png"
    (locator or page).screenshot(path=str(path))
    return path


def _shown_path(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def _visible_text(page: Any, path: str) -> str:
    try:
        text = page.evaluate(
            f"(path) => {{ const w = ({_FIND})(path); return (w ? w.node : document.body)"
            ".innerText; }",
            path,
        )
    except Exception as exc:  # (the page itself may be what failed)
        return f"(no text: {exc})"
    text = re.sub(r"\n\s*\n+", "\n", text)
    return text if len(text) <= 3000 else text[:1000] + "\n[...]\n" + text[-2000:]


@contextmanager
def evidence(page: Any, stem: str, path: str) -> Iterator[None]:
    """On a failure, save a screenshot and add it and the page's text to the message."""
    try:
        yield
    except Exception as exc:
        try:
            shot = _shown_path(_shot(page, f"{stem}-FAILED"))
        except Exception as shot_error:
            shot = f"(none: {shot_error})"
        pytest.fail(
            f"{type(exc).__name__}: {exc}\n\nscreenshot: {shot}\n"
            f"visible text of {path}:\n{_visible_text(page, path)}",
            pytrace=True,
        )


def open_notebook(page: Any, lab: LabServer, name: str) -> str:
    """Open notebooks/NAME in a fresh workspace; wait until it is shown and its kernel
    is idle. Returns its path in the server."""
    path = f"notebooks/{name}"
    page.goto(lab.url(f"lab/tree/{path}", reset=""), timeout=LOAD_MS)
    page.wait_for_function(_LOADED_JS, arg=path, timeout=LOAD_MS)
    page.wait_for_function(_IDLE_JS, arg=path, timeout=KERNEL_MS)
    return path


def run_all(page: Any, path: str) -> dict[str, Any]:
    """Run > Run All Cells (on cleared outputs); wait until every code cell has run and
    the kernel is idle; return the cells and what the output areas show."""
    result = page.evaluate(_RUN_ALL_JS, [path, RUN_ALL_MS])
    assert result != "timed out", f"Run All Cells did not finish within {RUN_ALL_MS} ms"
    page.wait_for_function(_RAN_JS, arg=path, timeout=KERNEL_MS)
    return page.evaluate(_OUTPUTS_JS, path)


def json_diff(disk: Any, lab: Any, where: str = "") -> list[tuple[str, Any, Any]]:
    """Where two notebook JSON documents differ: (path, value on disk, value in lab)."""
    if isinstance(disk, dict) and isinstance(lab, dict):
        found = []
        for key in sorted(set(disk) | set(lab)):
            found += json_diff(
                disk.get(key, "<absent>"), lab.get(key, "<absent>"), f"{where}/{key}"
            )
        return found
    if isinstance(disk, list) and isinstance(lab, list) and len(disk) == len(lab):
        return [
            d
            for i, (a, b) in enumerate(zip(disk, lab, strict=True))
            for d in json_diff(a, b, f"{where}[{i}]")
        ]
    return [] if disk == lab else [(where, disk, lab)]


def error_outputs(seen: dict[str, Any]) -> list[str]:
    problems = []
    for cell in seen["cells"]:
        for out in cell["outputs"]:
            text = "".join(out.get("text", "")) if out.get("name") == "stderr" else ""
            if out.get("output_type") == "error":
                problems.append(f"cell {cell['index']}: {out.get('ename')}: {out.get('evalue')}")
            elif "Traceback" in text:
                problems.append(f"cell {cell['index']}: a traceback on stderr: {text[:500]}")
    problems += [
        f"stderr output with a traceback: {t[:500]}" for t in seen["stderr"] if "Traceback" in t
    ]
    for needle in ("Traceback", "Error displaying widget"):
        if needle in seen["outputText"]:
            at = seen["outputText"].index(needle)
            problems.append(
                f"an output area shows {needle!r}: {seen['outputText'][at : at + 300]!r}"
            )
    return problems


def assert_console_clean(page: Any) -> None:
    """No console error but those of requests the closed network refuses (listed in
    reports/screenshots/jupyterlab-TEST.console.json)."""
    seen: Seen = page.seen
    assert not seen.console_errors, "the page logged errors:\n" + "\n".join(seen.console_errors)


# --------------------------------------------------------------------------- tests
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_opens_unmodified(page: Any, lab: LabServer, name: str) -> None:
    """Opening the committed notebook and starting its kernel changes nothing: JupyterLab
    shows no unsaved-changes mark and would save exactly the file on disk."""
    path = f"notebooks/{name}"
    with evidence(page, f"{Path(name).stem}-opened", path):
        open_notebook(page, lab, name)
        state = page.evaluate(_SETTLED_JS, [path, 10_000])
        _shot(page, f"{Path(name).stem}-opened")
        disk = json.loads((lab.root / path).read_text())
        # what the server would write on a save: the model through nbformat, as its
        # contents manager does (multiline strings split, transient metadata dropped)
        saved = json.loads(
            nbformat.writes(nbformat.from_dict(json.loads(state["model"])), nbformat.NO_CONVERT)
        )
        differences = json_diff(disk, saved)
        # The running Python's version is the one thing no committed file can match on
        # every machine; JupyterLab writes the kernel's language_info on connecting.
        tolerated = [
            d
            for d in differences
            if d[0] == "/metadata/language_info/version" and d[2] == platform.python_version()
        ]
        kept = [d for d in differences if d not in tolerated]
        record = {k: state[k] for k in ("settled", "dirty", "tab_dirty", "title_class")}
        record["differences (file -> JupyterLab)"] = differences
        (SHOTS / f"jupyterlab-{Path(name).stem}-opened.json").write_text(
            json.dumps(record, indent=1)
        )
        shown = (
            f"JupyterLab shows the document as dirty={state['dirty']} (tab marked "
            f"jp-mod-dirty: {state['tab_dirty']}; title classes {state['title_class']!r})"
        )
        assert not kept, (
            f"{name} opens modified: {shown}; what it would save differs from the file "
            "(file -> JupyterLab):\n"
            + "\n".join(f"  {where}: {a!r} -> {b!r}" for where, a, b in kept)
            + f"\n(the kernel's spec says display_name {state['kernel_display_name']!r})"
        )
        if not tolerated:
            assert not state["dirty"] and not state["tab_dirty"], (
                f"{name}: {shown} though its content equals the file"
            )
        assert_console_clean(page)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_run_all_cells_without_errors(page: Any, lab: LabServer, name: str) -> None:
    """Run > Run All Cells: every code cell runs; no output shows an error."""
    path = f"notebooks/{name}"
    stem = Path(name).stem
    with evidence(page, f"{stem}-run-all", path):
        open_notebook(page, lab, name)
        seen = run_all(page, path)
        _shot(page, f"{stem}-run-all")
        code = [c for c in seen["cells"] if c["type"] == "code"]
        assert code and all(c["execution_count"] for c in code)
        problems = error_outputs(seen)
        assert not problems, f"{name} shows errors after Run All:\n" + "\n".join(problems)
        if name == "explore.ipynb":
            explorer = explorer_cell(page, seen)
            check_explorer_rendered(page, explorer)
        assert_console_clean(page)


def explorer_cell(page: Any, seen: dict[str, Any]) -> Any:
    """The output area of the cell that shows ``ik.explore(df)``."""
    index = next(c["index"] for c in seen["cells"] if "ik.explore(df)" in c["source"])
    return page.locator(".jp-Notebook .jp-Cell").nth(index).locator(".jp-OutputArea")


def _count(explorer: Any) -> Any:
    return explorer.locator(".widget-html-content", has_text="rows match")


def check_explorer_rendered(page: Any, explorer: Any) -> dict[str, Any]:
    from playwright.sync_api import expect

    explorer.locator(".jupyter-widgets").first.wait_for(timeout=WIDGET_MS)
    protocol = explorer.locator("select").filter(
        has=page.locator("option", has_text=re.compile(r"^icmp$"))
    )
    expect(protocol).to_have_count(1, timeout=WIDGET_MS)
    expect(protocol.locator("option")).to_have_text(["(all)", "udp", "icmp"])
    expect(explorer.locator('input[placeholder="any port"]')).to_have_count(1)
    expect(_count(explorer)).to_have_text(re.compile(r"^\d+ of \d+ rows match"))
    image = explorer.locator("img").first
    expect(image).to_be_visible(timeout=WIDGET_MS)
    png = image.evaluate(_PNG_JS)
    assert png["head"] == [137, 80, 78, 71, 13, 10, 26, 10], f"the timeline is no PNG: {png}"
    assert png["size"] > 0 and png["width"] > 0 and png["height"] > 0, png
    return png


def probe(page: Any, path: str, model_id: str) -> dict[str, Any]:
    """Run a cell at the end of the notebook that reports the explorer's state."""
    result = page.evaluate(_PROBE_JS, [path, _PROBE_CODE.format(model_id=model_id), CELL_MS])
    assert result["result"] != "timed out", f"the probe cell did not finish in {CELL_MS} ms"
    texts = [
        "".join(o.get("text", ""))
        for o in result["outputs"]
        if o.get("output_type") == "stream" and o.get("name") == "stdout"
    ]
    errors = [o for o in result["outputs"] if o.get("output_type") == "error"]
    assert not errors and texts, f"the probe cell failed: {result['outputs']}"
    return json.loads(texts[-1])


def check_outcomes_kept(state: dict[str, Any], expect_protocol: str, expect_port: str) -> None:
    assert state["found"] == 1, f"the notebook's explorer was not found in the kernel: {state}"
    assert (state["protocol"], state["port"]) == (expect_protocol, expect_port), state
    # the legend names each outcome and its count: a filter changes neither
    assert state["legend"] == state["fresh_legend"], (
        f"the timeline's legend changed with the filters: {state['legend']} "
        f"(a fresh explorer: {state['fresh_legend']})"
    )
    changed = {q: o for q, o in state["shown"].items() if state["whole"].get(q) != o}
    assert not changed, (
        f"filters changed outcomes: shown {state['shown']}, on the whole capture {state['whole']}"
    )


def test_explorer_driven_in_the_browser(page: Any, lab: LabServer) -> None:
    """The explorer's own controls, used in the page: the count follows the filters and
    the outcomes in the timeline stay those of the whole capture."""
    from playwright.sync_api import expect

    path = "notebooks/explore.ipynb"
    with evidence(page, "explore-explorer", path):
        open_notebook(page, lab, "explore.ipynb")
        seen = run_all(page, path)
        problems = error_outputs(seen)
        assert not problems, "explore.ipynb shows errors after Run All:\n" + "\n".join(problems)
        explorer = explorer_cell(page, seen)
        png = check_explorer_rendered(page, explorer)
        index = next(c["index"] for c in seen["cells"] if "ik.explore(df)" in c["source"])
        view = [
            o["data"]["application/vnd.jupyter.widget-view+json"]
            for o in seen["cells"][index]["outputs"]
            if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
        ]
        assert view, f"the explorer cell shows no widget: {seen['cells'][index]['outputs']}"
        model_id = view[0]["model_id"]
        count = _count(explorer)
        explorer.scroll_into_view_if_needed()

        states = {}
        expect(count).to_have_text(re.compile(r"^6 of 6 rows match"))
        states["all"] = probe(page, path, model_id)
        check_outcomes_kept(states["all"], "(all)", "")
        _shot(page, "explore-explorer-all", explorer)

        protocol = explorer.locator("select").filter(
            has=page.locator("option", has_text=re.compile(r"^icmp$"))
        )
        protocol.select_option(label="icmp")
        expect(count).to_have_text(re.compile(r"^3 of 6 rows match"), timeout=WIDGET_MS)
        image = explorer.locator("img").first
        expect(image).not_to_have_attribute("src", png["src"], timeout=WIDGET_MS)
        _shot(page, "explore-explorer-protocol-icmp", explorer)
        states["protocol icmp"] = probe(page, path, model_id)
        check_outcomes_kept(states["protocol icmp"], "icmp", "")

        protocol.select_option(label="(all)")
        expect(count).to_have_text(re.compile(r"^6 of 6 rows match"), timeout=WIDGET_MS)
        port = explorer.locator('input[placeholder="any port"]')
        port.click()
        port.press_sequentially("53")
        port.press("Tab")
        expect(count).to_have_text(re.compile(r"^3 of 6 rows match"), timeout=WIDGET_MS)
        _shot(page, "explore-explorer-port-53", explorer)
        states["port 53"] = probe(page, path, model_id)
        check_outcomes_kept(states["port 53"], "(all)", "53")
        (SHOTS / "jupyterlab-explore-explorer.json").write_text(json.dumps(states, indent=1))

        problems = error_outputs(page.evaluate(_OUTPUTS_JS, path))
        assert not problems, "errors after driving the explorer:\n" + "\n".join(problems)
        assert_console_clean(page)
