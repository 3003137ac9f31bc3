"""Open an exported report in a real headless Chromium (Debian's, never a downloaded one)
and read back what a person would see. Used by the tests and by ``make screenshot``;
needs the ``playwright`` package (a test extra) and the ``chromium`` Debian package."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Chromium flags for a closed network: no background requests, no sandbox as root.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

_FACTS_JS = """() => ({
    title: document.title,
    headings: [...document.querySelectorAll('h1, h2, h3')]
        .map(h => h.innerText.replace(/\\u00b6$/, '').trim()),
    images: [...document.images].map(i => ({w: i.naturalWidth, complete: i.complete})),
    code: [...document.querySelectorAll('.jp-CodeCell .jp-InputArea, .jp-Editor, .highlight')]
        .filter(e => e.offsetParent !== null).length,
    text: document.body.innerText,
    imgX: document.querySelectorAll('img[src="x"], img[src$="/x"]').length,
    onerror: document.querySelectorAll('[onerror], [onload]').length,
    scripts: [...document.scripts].filter(s => s.textContent.includes('alert(')).length,
    svg: document.querySelectorAll('svg[onload]').length,
})"""


@dataclass
class PageFacts:
    """What the browser saw."""

    facts: dict[str, Any]
    dialogs: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


def chromium_path() -> str:
    exe = shutil.which("chromium")
    if exe is None:
        raise FileNotFoundError("Debian's chromium is not installed (apt-get install chromium)")
    return exe


def open_report(
    html_path: Path,
    screenshot: Path | None = None,
    width: int = 1200,
    height: int | None = None,
) -> PageFacts:
    """Load ``html_path`` in headless Chromium; return what it saw; save a PNG of the
    whole page (or of its first ``height`` pixels)."""
    from playwright.sync_api import sync_playwright

    seen = PageFacts({})
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), headless=True, args=FLAGS)
        page = browser.new_page(viewport={"width": width, "height": height or 900})

        def on_dialog(dialog: Any) -> None:
            seen.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.on(
            "console", lambda m: seen.console_errors.append(m.text) if m.type == "error" else None
        )
        page.on("pageerror", lambda e: seen.console_errors.append(str(e)))
        page.on("request", lambda r: seen.requests.append(r.url))
        page.goto(Path(html_path).resolve().as_uri())
        page.wait_for_load_state("load")
        seen.facts = page.evaluate(_FACTS_JS)
        if screenshot is not None:
            Path(screenshot).parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot), full_page=height is None)
        browser.close()
    return seen
