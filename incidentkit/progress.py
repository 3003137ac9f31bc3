"""Progress while a large log is read: a bar in the notebook when the reader runs in a
Jupyter kernel (the command line draws its own on stderr)."""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any, Final

#: inputs larger than this get a progress bar
PROGRESS_ABOVE: Final = 4 * 2**20


def in_notebook() -> bool:
    """Whether this code runs in a Jupyter kernel that shows rich output."""
    import sys

    if "IPython" not in sys.modules:
        return False
    from IPython import get_ipython

    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def large(source: Any) -> bool:
    """Whether ``source`` is a path to a file larger than :data:`PROGRESS_ABOVE`."""
    if not isinstance(source, (str, os.PathLike)) or str(source) == "-":
        return False
    try:
        return Path(source).stat().st_size > PROGRESS_ABOVE
    except OSError:
        return False


class NotebookBar:
    """An ipywidgets progress bar in the cell's output, replaced by one line of text
    (what was read) when the reading ends, so a saved notebook keeps no widget."""

    def __init__(self, name: str) -> None:
        import ipywidgets as widgets
        from IPython.display import display

        self.name = name
        self.bar = widgets.IntProgress(min=0, max=100, value=0, description="reading")
        self.label = widgets.HTML(html.escape(name))
        self.handle = display(widgets.HBox([self.bar, self.label]), display_id=True)
        self.shown = -1

    def __call__(self, done: int, total: int) -> None:
        percent = int(100 * done / total) if total else 100
        if percent != self.shown:
            self.shown = percent
            self.bar.value = percent
            if percent == 100:
                self.bar.description = "parsing"

    def done(self, rows: int) -> None:
        from IPython.display import HTML

        self.bar.close()
        if self.handle is not None:
            self.handle.update(HTML(f"<small>read {html.escape(self.name)}: {rows:,} rows</small>"))
