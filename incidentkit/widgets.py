"""The interactive explorer for JupyterLab (ipywidgets)."""

from __future__ import annotations

import html
import io
import threading
from typing import Any

import ipywidgets as widgets
import matplotlib
import pandas as pd
from matplotlib.figure import Figure

from .dns import OUTCOMES, dns_transactions
from .plot import plot_timeline

_ALL = "(all)"
_TABLE_COLUMNS = ["record", "line", "time", "proto", "src", "sport", "dst", "dport", "info"]


class Explorer(widgets.VBox):
    """Filters, a live timeline and a table of the matching rows.

    Build it with :func:`explore`. Its state is public so notebooks and tests can drive
    it: the filter widgets (``protocol``, ``host``, ``port``, ``name``, ``outcome``,
    ``time_range``), ``filtered`` (the matching rows), ``figure`` and ``table``.
    """

    def __init__(
        self,
        df: pd.DataFrame,
        *,
        protocol: str | None = None,
        host: str | None = None,
        port: int | None = None,
        name: str | None = None,
        outcome: str | None = None,
        max_rows: int = 50,
        debounce: float = 0.3,
        steps: int = 200,
    ) -> None:
        self.df = df
        self.transactions = dns_transactions(df)
        self.max_rows = max_rows
        self.debounce = debounce
        self._timer: threading.Timer | None = None
        self.filtered = df
        self.figure = Figure(figsize=(10, 3.6), layout="constrained")
        self.ax = self.figure.add_subplot()

        protos = [p for p in df["proto"].cat.categories if (df["proto"] == p).any()]
        hosts = sorted(set(df["src"].dropna()) | set(df["dst"].dropna()))
        self.protocol = widgets.Dropdown(
            options=[_ALL, *protos], value=protocol or _ALL, description="protocol"
        )
        self.host = widgets.Combobox(
            options=hosts[:2000], value=host or "", placeholder="any address", description="host"
        )
        self.port = widgets.Text(
            value="" if port is None else str(port), placeholder="any port", description="port"
        )
        self.name = widgets.Text(
            value=name or "", placeholder="DNS name contains", description="DNS name"
        )
        self.outcome = widgets.Dropdown(
            options=[_ALL, *OUTCOMES], value=outcome or _ALL, description="outcome"
        )
        times = df["time"].dropna()
        if len(times):
            marks = pd.date_range(times.min(), times.max(), periods=min(steps, max(2, len(times))))
            options = [(f"{t:%H:%M:%S.%f}"[:-3], t) for t in marks]
            self.time_range = widgets.SelectionRangeSlider(
                options=options,
                index=(0, len(options) - 1),
                description="time",
                layout=widgets.Layout(width="95%"),
            )
        else:
            self.time_range = widgets.SelectionRangeSlider(
                options=[("no times", 0)], index=(0, 0), description="time", disabled=True
            )
        self.image = widgets.Image(format="png")
        self.count = widgets.HTML()
        self.table = widgets.HTML()
        controls = [self.protocol, self.host, self.port, self.name, self.outcome]
        for control in [*controls, self.time_range]:
            control.observe(self._changed, names="value")
        super().__init__(
            [
                widgets.HBox(controls[:3]),
                widgets.HBox(controls[3:]),
                self.time_range,
                self.image,
                self.count,
                self.table,
            ]
        )
        self.update()

    # ---------------------------------------------------------------- filtering
    def mask(self) -> pd.Series:
        """Which rows of ``df`` match the filters now."""
        df = self.df
        keep = pd.Series(True, index=df.index)
        if self.protocol.value != _ALL:
            keep &= df["proto"] == self.protocol.value
        if self.host.value.strip():
            h = self.host.value.strip()
            keep &= ((df["src"] == h) | (df["dst"] == h)).fillna(False)
        if self.port.value.strip().isdigit():
            p = int(self.port.value.strip())
            keep &= ((df["sport"] == p) | (df["dport"] == p)).fillna(False)
        if self.name.value.strip():
            keep &= (
                df["dns_qname"]
                .str.contains(self.name.value.strip(), regex=False, case=False)
                .fillna(False)
            )
        if self.outcome.value != _ALL:
            tx = self.transactions.loc[self.transactions["outcome"] == self.outcome.value]
            records = {r for rs in tx["records"] for r in rs}
            keep &= df["record"].isin(records)
        if not self.time_range.disabled:
            lo, hi = self.time_range.value
            if (lo, hi) != (self.time_range.options[0][1], self.time_range.options[-1][1]):
                keep &= (df["time"] >= lo) & (df["time"] <= hi)
        return keep.fillna(False)

    def _changed(self, _change: Any) -> None:
        if self.debounce <= 0:
            self.update()
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer = threading.Timer(self.debounce, self.update)
        self._timer.start()

    def update(self) -> None:
        """Apply the filters: redraw the timeline and refill the table."""
        self.filtered = self.df.loc[self.mask()]
        self.ax.clear()
        plot_timeline(self.filtered, ax=self.ax)
        buffer = io.BytesIO()
        with matplotlib.rc_context({"savefig.dpi": 80}):
            self.figure.savefig(buffer, format="png")
        self.image.value = buffer.getvalue()
        shown = self.filtered.head(self.max_rows)
        self.count.value = f"<b>{len(self.filtered)}</b> of {len(self.df)} rows match" + (
            f"; the first {len(shown)} are shown" if len(shown) < len(self.filtered) else ""
        )
        table = shown[_TABLE_COLUMNS].astype(object)
        table = table.where(table.notna(), "")
        self.table.value = table.to_html(index=False, escape=True, border=0)

    def __repr__(self) -> str:
        return f"Explorer({len(self.filtered)} of {len(self.df)} rows)"

    def _repr_html_(self) -> str:  # a static view where widgets do not render
        return html.escape(repr(self))


def explore(df: pd.DataFrame, **defaults: Any) -> Explorer:
    """An explorer widget for ``df``: filters, a live timeline and the matching rows.

    Parameters
    ----------
    df : pandas.DataFrame
        A frame of :func:`incidentkit.read_tcpdump`.
    **defaults
        Starting values of the filters: ``protocol``, ``host``, ``port``, ``name``,
        ``outcome``; and ``max_rows`` (rows shown, default 50), ``debounce`` (seconds to
        wait after a change before redrawing, default 0.3).

    Examples
    --------
    >>> from incidentkit import read_tcpdump
    >>> ex = explore(read_tcpdump("data/yummyrecipesforme_dns_icmp.log"), debounce=0)
    >>> ex.protocol.value = "icmp"
    >>> len(ex.filtered)
    3
    """
    return Explorer(df, **defaults)
