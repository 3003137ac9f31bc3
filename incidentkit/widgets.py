"""The interactive explorer for JupyterLab (ipywidgets)."""

from __future__ import annotations

import html
import io
import threading
from typing import Any

import ipywidgets as widgets
import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .dns import OUTCOMES, dns_transactions
from .icmp import is_error
from .plot import _nothing, plot_timeline

_ALL = "(all)"
_TABLE_COLUMNS = ["record", "line", "time", "proto", "src", "sport", "dst", "dport", "info"]


_CSS = """<style>
.ik-explorer-table table { border-collapse: collapse; font-size: 90%; }
.ik-explorer-table th, .ik-explorer-table td { text-align: left !important;
  padding: 1px 8px; white-space: nowrap; vertical-align: top; }
.ik-explorer-table th { border-bottom: 1px solid #999; }
.ik-explorer-table td:last-child { white-space: normal; overflow-wrap: anywhere;
  min-width: 16em; }
.ik-explorer-table { max-width: 100%; overflow-x: auto; }
</style>"""
_INVALID = "2px solid #d62728"


class Explorer(widgets.VBox):
    """Filters, a live timeline and a table of the matching rows.

    Build it with :func:`explore`. Its state is public so notebooks and tests can drive
    it: the filter widgets (``protocol``, ``host``, ``port``, ``name``, ``outcome``,
    ``time_range``), ``filtered`` (the matching rows), ``shown_transactions`` (the
    queries the timeline draws), ``figure`` and ``table``.

    The queries are paired with their outcomes once, on the whole capture; the filters
    choose which rows and queries to show and never change an outcome. A query is shown
    when its own packet or the packet that answered it matches the filters.
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
        self.shown_transactions = self.transactions
        self._q_rec = self.transactions["query_record"].to_numpy(dtype=np.int64)
        self._o_rec = self.transactions["outcome_record"].to_numpy(dtype=np.int64, na_value=-1)
        self._records = df["record"].to_numpy(dtype=np.int64)
        self.max_rows = max_rows
        self.debounce = debounce
        self._timer: threading.Timer | None = None
        self._keep = np.ones(len(df), dtype=bool)
        self._filtered: pd.DataFrame | None = df
        self._errors = is_error(df).to_numpy()
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
        self.port_error = widgets.HTML()
        self.name = widgets.Text(
            value=name or "", placeholder="DNS name contains", description="DNS name"
        )
        self.outcome = widgets.Dropdown(
            options=[_ALL, *OUTCOMES], value=outcome or _ALL, description="outcome"
        )
        times = df["time"].dropna()
        self.dated = bool(len(times)) and int(times.min().year) != 1970
        self.date = widgets.HTML(self._date_text(times))
        if len(times):
            marks = pd.date_range(times.min(), times.max(), periods=min(steps, max(2, len(times))))
            options = [(f"{t:%H:%M:%S.%f}"[:-3], t) for t in marks]
            self.time_range = widgets.SelectionRangeSlider(
                options=options,
                index=(0, len(options) - 1),
                description="time",
                readout=False,  # (the chosen window is written out beside it, unclipped)
                layout=widgets.Layout(width="60%"),
            )
        else:
            self.time_range = widgets.SelectionRangeSlider(
                options=[("no times", 0)],
                index=(0, 0),
                description="time",
                disabled=True,
                readout=False,
            )
        self.window = widgets.HTML()
        self.image = widgets.Image(
            format="png", layout=widgets.Layout(max_width="100%", height="auto")
        )
        self.count = widgets.HTML()
        self.table = widgets.HTML()
        controls = [self.protocol, self.host, self.port, self.name, self.outcome]
        for control in [*controls, self.time_range]:
            control.observe(self._changed, names="value")
        super().__init__(
            [
                widgets.HBox(controls[:3]),
                self.port_error,
                widgets.HBox(controls[3:]),
                widgets.HBox([self.time_range, self.window]),
                self.date,
                self.image,
                self.count,
                self.table,
            ]
        )
        self.update()

    @staticmethod
    def _date_text(times: pd.Series) -> str:
        if not len(times) or int(times.min().year) == 1970:
            return "<i>date unknown</i> (the log prints times of day only)"
        first, last = times.min().date(), times.max().date()
        return f"date: {first}" + (f" to {last}" if last != first else "")

    # ---------------------------------------------------------------- filtering
    def port_value(self) -> int | None:
        """The port filter as a number; None when empty or not a port (the widget is
        then marked)."""
        text = self.port.value.strip()
        valid = text == "" or (text.isdigit() and int(text) <= 65535)
        self.port.layout.border = None if valid else _INVALID
        self.port_error.value = (
            ""
            if valid
            else f"<span style='color:#d62728'>port: {html.escape(text)} is not a port "
            "(a number from 0 to 65535); not filtering by port</span>"
        )
        return int(text) if valid and text else None

    def mask(self) -> pd.Series:
        """Which rows of ``df`` match the filters now."""
        df = self.df
        keep = np.ones(len(df), dtype=bool)

        def where(condition: pd.Series) -> np.ndarray:
            return condition.to_numpy(dtype=bool, na_value=False)

        if self.protocol.value != _ALL:
            keep &= where(df["proto"] == self.protocol.value)
        if self.host.value.strip():
            h = self.host.value.strip()
            keep &= where(df["src"] == h) | where(df["dst"] == h)
        p = self.port_value()
        if p is not None:
            keep &= where(df["sport"] == p) | where(df["dport"] == p)
        if self.name.value.strip():
            keep &= where(
                df["dns_qname"].str.contains(self.name.value.strip(), regex=False, case=False)
            )
        if self.outcome.value != _ALL:
            chosen = (self.transactions["outcome"] == self.outcome.value).to_numpy()
            records = np.concatenate([self._q_rec[chosen], self._o_rec[chosen]])
            keep &= np.isin(self._records, records)
        if not self.time_range.disabled:
            lo, hi = self.time_range.value
            if (lo, hi) != (self.time_range.options[0][1], self.time_range.options[-1][1]):
                keep &= where((df["time"] >= lo) & (df["time"] <= hi))
        return pd.Series(keep, index=df.index)

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
        keep = self.mask().to_numpy()
        self._keep, self._filtered = keep, None
        rows = self._records[keep]
        shown = np.isin(self._q_rec, rows) | np.isin(self._o_rec, rows)
        if self.outcome.value != _ALL:
            shown &= (self.transactions["outcome"] == self.outcome.value).to_numpy()
        self.shown_transactions = self.transactions.loc[shown]
        if not self.time_range.disabled:
            lo, hi = self.time_range.value
            self.window.value = f"from {lo:%H:%M:%S.%f}"[:-3] + f" to {hi:%H:%M:%S.%f}"[:-3]
        self.ax.clear()
        matching = int(keep.sum())
        if matching == 0:
            _nothing(self.ax, "DNS queries and what came of them", "no rows match these filters",
                     "time", "event")  # fmt: skip
        else:
            plot_timeline(
                self.df.loc[keep & self._errors],  # (the rows it reads: the ICMP errors)
                ax=self.ax,
                transactions=self.shown_transactions,
                nothing="no DNS query or ICMP error among the matching rows",
            )
        buffer = io.BytesIO()
        with matplotlib.rc_context({"savefig.dpi": 80}):
            self.figure.savefig(buffer, format="png")
        self.image.value = buffer.getvalue()
        head = self.df.iloc[np.flatnonzero(keep)[: self.max_rows]]
        self.count.value = f"<b>{matching}</b> of {len(self.df)} rows match" + (
            f"; the first {len(head)} are shown" if len(head) < matching else ""
        )
        self.table.value = self._table(head)

    def _table(self, head: pd.DataFrame) -> str:
        if head.empty:
            return ""
        columns = list(_TABLE_COLUMNS)
        if head["line"].isna().all():  # a capture: its packets have frame numbers, not lines
            columns[columns.index("line")] = "packet"
        table = head[columns].astype(object).rename(columns={"packet": "frame"})
        # the date is said once, above; each row gives its time of day
        table["time"] = [
            "" if pd.isna(t) else (f"{t:%H:%M:%S.%f}" if not self.dated else f"{t}")
            for t in head["time"]
        ]
        table = table.where(table.notna(), "")
        body = table.to_html(index=False, escape=True, border=0)
        body = body.replace(' style="text-align: right;"', "")
        return f"{_CSS}<div class='ik-explorer-table'>{body}</div>"

    @property
    def filtered(self) -> pd.DataFrame:
        """The rows that match the filters now."""
        if self._filtered is None:
            self._filtered = self.df.loc[self._keep]
        return self._filtered

    def __repr__(self) -> str:
        return f"Explorer({int(self._keep.sum())} of {len(self.df)} rows)"

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
