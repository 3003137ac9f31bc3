"""Figures that tell the incident's story. Shaped like seaborn's: ``data`` first,
keyword-only options, ``ax=None`` (the current Axes), the Axes returned, no ``plt.show()``.

Every series is a matplotlib artist with a ``label`` and a ``gid`` of the form
``incidentkit:<figure>:<series>``, so what was drawn can be checked and restyled.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Final, Literal, ParamSpec

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.text import Text

from .dns import dns_transactions
from .icmp import icmp_errors
from .traffic import traffic_rate

P = ParamSpec("P")

#: The marker rows of the timeline, top to bottom within a server's lane.
TIMELINE_ROWS: Final = (
    "DNS query",
    "DNS answer",
    "DNS error response",
    "ICMP error",
    "no response",
)
_STYLE: Final[dict[str, dict[str, Any]]] = {
    "DNS query": {"marker": "o", "color": "#1f77b4"},
    "DNS answer": {"marker": "s", "color": "#2ca02c"},
    "DNS error response": {"marker": "D", "color": "#ff7f0e"},
    "ICMP error": {"marker": "v", "color": "#d62728"},
    "no response": {"marker": "x", "color": "#7f7f7f"},
}
_OUTCOME_COLORS: Final = {
    "answered": "#2ca02c",
    "error": "#ff7f0e",
    "icmp_error": "#d62728",
    "no_response": "#7f7f7f",
}
_OUTCOME_WORDS: Final = {
    "answered": "answered",
    "error": "DNS error response",
    "icmp_error": "ICMP error",
    "no_response": "no response",
}


def _axes(ax: Axes | None) -> Axes:
    return plt.gca() if ax is None else ax


def _plain_text(draw: Callable[P, Axes]) -> Callable[P, Axes]:
    """A figure's text is drawn as it is, never parsed as math: a host or DNS name with
    dollar signs (``$\\foo$``) is text from the log, and mathtext would raise on it."""

    @functools.wraps(draw)
    def plain(*args: P.args, **kwargs: P.kwargs) -> Axes:
        with plt.rc_context({"text.parse_math": False}):
            ax = draw(*args, **kwargs)
        for text in ax.figure.findobj(Text):
            text.set_parse_math(False)
        for axis in (ax.xaxis, ax.yaxis):  # (ticks made when the figure is drawn)
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                tick.label1.set_parse_math(False)
                tick.label2.set_parse_math(False)
        return ax

    return plain


def _time_axis(ax: Axes, times: pd.Series) -> None:
    """Readable time ticks: time of day for short captures, dates for long ones."""
    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    # a time-only log is dated 1970-01-01 by the reader: do not print that date, and
    # print every tick as a whole time of day (a concise "30" means nothing without the
    # date and minute it would be offset from)
    dated = bool(len(times)) and int(pd.Timestamp(times.min()).year) != 1970
    if dated:
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, show_offset=True))
    else:
        span = (times.max() - times.min()).total_seconds() if len(times) else 0.0
        fmt = "%H:%M:%S.%f" if span < 10 else ("%H:%M:%S" if span < 7200 else "%H:%M")
        ax.xaxis.set_major_formatter(
            mticker.FuncFormatter(
                lambda x, _pos: mdates.num2date(x).strftime(fmt)[: -3 if "%f" in fmt else None]
            )
        )
    tz = getattr(times.dt, "tz", None) if len(times) else None
    ax.set_xlabel(f"time ({tz})" if tz is not None else "time (as the log prints it)")


def _finish(
    ax: Axes, title: str, ylabel: str, times: pd.Series, grid: Literal["both", "x", "y"] = "both"
) -> Axes:
    """Title, y label, time axis, legend and grid: how every time-axis figure ends."""
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    _time_axis(ax, times)
    ax.legend(loc="upper left", fontsize="small")
    ax.grid(axis=grid, alpha=0.3)
    return ax


def _nothing(ax: Axes, title: str, what: str, xlabel: str, ylabel: str) -> Axes:
    ax.text(
        0.5,
        0.5,
        f"nothing to show: {what}",
        transform=ax.transAxes,
        ha="center",
        va="center",
        color="#555555",
        gid="incidentkit:empty",
    )
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_xticks([])
    ax.set_yticks([])
    return ax


def _timeline_events(data: pd.DataFrame, tx: pd.DataFrame) -> pd.DataFrame:
    """One row per marker: ``time``, ``row`` and ``server`` (categories: the rows of
    :data:`TIMELINE_ROWS`, the servers in the order they were first asked) and
    ``record``."""
    servers = [str(v) for v in pd.unique(tx["server"].dropna())]
    lanes = servers or ["other"]
    server = pd.Categorical(tx["server"], categories=lanes).codes.astype(np.int64)
    outcome = tx["outcome"].to_numpy(dtype=object)
    q_rec = tx["query_record"].to_numpy(dtype=np.int64)
    o_rec = tx["outcome_record"].to_numpy(dtype=np.int64, na_value=-1)
    times, rows, codes, records = [tx["time"]], [np.zeros(len(tx))], [server], [q_rec]

    def add(when: pd.Series, row: str, lane: np.ndarray, record: np.ndarray) -> None:
        times.append(when)
        rows.append(np.full(len(lane), TIMELINE_ROWS.index(row)))
        codes.append(lane)
        records.append(record)

    for kind, row in (("answered", "DNS answer"), ("error", "DNS error response")):
        m = outcome == kind
        add(tx["outcome_time"][m], row, server[m], o_rec[m])
    m = outcome == "no_response"
    add(tx["time"][m], "no response", server[m], q_rec[m])
    errors = icmp_errors(data)
    e_rec = errors["record"].to_numpy(dtype=np.int64)
    # an ICMP error that answers a query drawn is drawn with it, even when the rows given
    # leave it out (transactions paired on a whole capture, drawn for some of its rows)
    m = (outcome == "icmp_error") & ~np.isin(o_rec, e_rec)
    add(tx["outcome_time"][m], "ICMP error", server[m], o_rec[m])
    if len(errors):
        # each error in the lane of the server whose query it answers, else of the server
        # it quotes when that one is drawn, else the first lane
        known = o_rec >= 0
        at = pd.Index(o_rec[known]).get_indexer(e_rec)
        quoted = pd.Index(lanes).get_indexer(pd.Index(errors["orig_dst"].astype(object)))
        paired = server[known]
        lane = (
            np.where(at >= 0, paired[np.maximum(at, 0)], quoted) if len(paired) else quoted
        ).astype(np.int64)
        add(errors["time"], "ICMP error", np.maximum(lane, 0), e_rec)
    events = pd.DataFrame(
        {
            "time": pd.concat([pd.Series(t).reset_index(drop=True) for t in times]),
            "row": pd.Categorical.from_codes(
                np.concatenate(rows).astype(np.int8),
                dtype=pd.CategoricalDtype(list(TIMELINE_ROWS)),
            ),
            "server": pd.Categorical.from_codes(
                np.maximum(np.concatenate(codes), 0), dtype=pd.CategoricalDtype(lanes)
            ),
            "record": np.concatenate(records),
        }
    ).reset_index(drop=True)
    events = events.dropna(subset=["time"])
    events["server"] = events["server"].cat.remove_unused_categories()
    return events


@_plain_text
def plot_timeline(
    data: pd.DataFrame,
    *,
    ax: Axes | None = None,
    reported_at: pd.Timestamp | str | None = None,
    max_events: int = 5000,
    freq: str | None = None,
    title: str = "DNS queries and what came of them",
    transactions: pd.DataFrame | None = None,
    nothing: str = "no DNS or ICMP error in the capture",
) -> Axes:
    """DNS queries, answers, error responses and ICMP errors on one time axis.

    Each DNS server gets a lane of marker rows; a line joins each query to its outcome,
    and a cross marks a query that got no response. Past ``max_events`` events the
    points are binned into counts per interval (bars scaled within each row).

    Parameters
    ----------
    data : pandas.DataFrame
        A frame of :func:`incidentkit.read_tcpdump`.
    ax : matplotlib Axes, optional
        Where to draw; the current Axes by default.
    reported_at : Timestamp or str, optional
        When the incident was reported: drawn as a vertical line.
    max_events : int, default 5000
        Above this many events, draw counts per interval instead of points.
    freq : str, optional
        The interval when binning; chosen from the capture's span when not given.
    title : str
        The Axes title.
    transactions : pandas.DataFrame, optional
        The queries to draw, as :func:`incidentkit.dns_transactions` paired them (on a
        whole capture, say, when ``data`` is some of its rows: each query keeps the
        outcome it had there). By default ``data``'s own.
    nothing : str
        What the figure says when there is nothing to draw.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from incidentkit import read_tcpdump
    >>> ax = plot_timeline(read_tcpdump("data/yummyrecipesforme_dns_icmp.log"),
    ...                    ax=plt.figure().add_subplot())
    >>> sorted(c.get_label() for c in ax.collections if c.get_gid().endswith(("query", "error")))
    ['DNS query (3)', 'ICMP error (3)']
    """
    ax = _axes(ax)
    tx = dns_transactions(data) if transactions is None else transactions
    events = _timeline_events(data, tx)
    if events.empty:
        return _nothing(ax, title, nothing, "time", "event")
    server_codes = events["server"].cat.codes.to_numpy()
    servers = [str(v) for v in events["server"].cat.categories]
    height = len(TIMELINE_ROWS) + 1
    ypos = {
        (s, r): (len(servers) - 1 - i) * height + (len(TIMELINE_ROWS) - 1 - j)
        for i, s in enumerate(servers)
        for j, r in enumerate(TIMELINE_ROWS)
    }
    row_codes = events["row"].cat.codes.to_numpy()
    events["server"] = np.asarray(servers, dtype=object)[server_codes]  # (plain names)
    events["y"] = (len(servers) - 1 - server_codes) * height + (len(TIMELINE_ROWS) - 1 - row_codes)
    binned = len(events) > max_events
    if binned:
        span = events["time"].max() - events["time"].min()
        step = pd.Timedelta(freq) if freq else _bin_for(span)
        starts = events["time"].dt.floor(step)
        counts = events.groupby(["row", "server", starts]).size()
        peak = counts.groupby(level=[0, 1]).max()
        width = step / pd.Timedelta(days=1)
        for row in TIMELINE_ROWS:
            part = counts[counts.index.get_level_values(0) == row]
            if part.empty:
                continue
            srv = part.index.get_level_values(1)
            top = peak.loc[list(zip([row] * len(part), srv, strict=True))].to_numpy()
            # log scale within each row, so one lookup still shows beside a flood
            heights = 0.1 + 0.7 * np.log1p(part.to_numpy()) / np.log1p(top)
            bottoms = np.array([ypos[(s, row)] for s in srv]) - 0.4
            # one collection of rectangles per row (a patch per bar is slow to draw)
            x0 = mdates.date2num(part.index.get_level_values(2))
            x1 = x0 + width
            top_y = bottoms + heights
            verts = np.stack(
                [
                    np.column_stack([x0, bottoms]),
                    np.column_stack([x0, top_y]),
                    np.column_stack([x1, top_y]),
                    np.column_stack([x1, bottoms]),
                ],
                axis=1,
            )
            ax.add_collection(
                PolyCollection(
                    list(verts),
                    facecolors=_STYLE[row]["color"],
                    edgecolors="none",
                    alpha=0.8,
                    label=f"{row} ({int(part.sum())})",
                    gid=f"incidentkit:timeline:{row}",
                )
            )
        ax.autoscale_view()
        ax.set_title(f"{title} (counts per {_label(step)}, bar height log-scaled per row)")
    else:
        segments = []
        ok = tx.dropna(subset=["time"])
        q: Any
        for q in ok.itertuples(index=False):
            end_row = {
                "answered": "DNS answer",
                "error": "DNS error response",
                "icmp_error": "ICMP error",
                "no_response": "no response",
            }[q.outcome]
            end_time = q.time if q.outcome == "no_response" else q.outcome_time
            if pd.isna(end_time):
                continue
            segments.append(
                [
                    (mdates.date2num(q.time), ypos[(q.server, "DNS query")]),
                    (mdates.date2num(end_time), ypos[(q.server, end_row)]),
                ]
            )
        if segments:
            ax.add_collection(
                LineCollection(
                    segments,
                    colors="#bbbbbb",
                    linewidths=0.8,
                    zorder=1,
                    gid="incidentkit:timeline:links",
                    label="query to its outcome",
                )
            )
        for row in TIMELINE_ROWS:
            marks = events.loc[events["row"] == row]
            if marks.empty:
                continue
            ax.scatter(
                marks["time"],
                marks["y"],
                s=36,
                zorder=2,
                label=f"{row} ({len(marks)})",
                gid=f"incidentkit:timeline:{row}",
                **_STYLE[row],
            )
        ax.set_title(title)
    if reported_at is not None:
        when = pd.Timestamp(reported_at)
        tz = events["time"].dt.tz
        if tz is not None and when.tzinfo is None:
            when = when.tz_localize(tz)
        ax.axvline(
            float(mdates.date2num(when)),
            color="#9467bd",
            linestyle="--",
            linewidth=1.2,
            label=f"reported {when:%H:%M}",
            gid="incidentkit:timeline:reported",
        )
    ticks = sorted(ypos.values())
    names = {v: (f"{s} · {r}" if len(servers) > 1 else r) for (s, r), v in ypos.items()}
    ax.set_yticks(ticks, [names[t] for t in ticks])
    ax.set_ylim(-1, len(servers) * height - 1)
    ax.set_ylabel(
        "event" + (" (per DNS server)" if len(servers) > 1 else f" (DNS server {servers[0]})")
    )
    _time_axis(ax, events["time"])
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    ax.grid(axis="x", alpha=0.3)
    return ax


def _bin_for(span: pd.Timedelta) -> pd.Timedelta:
    for step in ("100ms", "1s", "10s", "1min", "10min", "1h", "1D"):
        if span / pd.Timedelta(step) <= 400:
            return pd.Timedelta(step)
    return pd.Timedelta("7D")


def _label(step: pd.Timedelta) -> str:
    seconds = step.total_seconds()
    if seconds < 1:
        return f"{seconds * 1000:g} ms"
    if seconds < 60:
        return f"{seconds:g} s"
    if seconds < 3600:
        return f"{seconds / 60:g} min"
    return f"{seconds / 3600:g} h"


@_plain_text
def plot_rate(
    data: pd.DataFrame,
    *,
    port: int = 53,
    freq: str = "1s",
    threshold: float | None = None,
    server: str | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Packets per interval to ``port``, distinct sources as a second series, the flood
    threshold as a line and the intervals above it shaded.

    Examples
    --------
    >>> from incidentkit import read_tcpdump
    >>> ax = plot_rate(read_tcpdump("data/yummyrecipesforme_dns_icmp.log"), threshold=100,
    ...                ax=plt.figure().add_subplot())
    >>> ax.get_ylabel()
    'packets per 1s'
    """
    ax = _axes(ax)
    title = title or f"Traffic to port {port}"
    rate = traffic_rate(data, port=port, freq=freq, server=server)
    ylabel = f"packets per {freq}"
    if rate.empty or rate["packets"].sum() == 0:
        return _nothing(ax, title, f"no packets to port {port}", "time", ylabel)
    times = rate.index.to_series()
    ax.step(
        times,
        rate["packets"],
        where="post",
        color="#1f77b4",
        linewidth=1.5,
        label=f"packets to port {port}",
        gid="incidentkit:rate:packets",
    )
    # sources get an axis of their own only when a flood dwarfs them (48 sources beside
    # 16000 packets); otherwise both share one scale, as every source sends a packet
    twin = ax.twinx() if rate["packets"].max() > 20 * max(1, rate["sources"].max()) else ax
    twin.step(
        times,
        rate["sources"],
        where="post",
        color="#ff7f0e",
        linewidth=1.2,
        linestyle="-.",
        label="distinct sources",
        gid="incidentkit:rate:sources",
    )
    if twin is not ax:
        twin.set_ylabel(f"distinct sources per {freq}", color="#ff7f0e")
        twin.set_ylim(bottom=0, top=max(1, int(rate["sources"].max())) * 1.15)
    ax.sources_axes = twin  # type: ignore[attr-defined]
    if threshold is not None:
        ax.axhline(
            threshold,
            color="#d62728",
            linestyle="--",
            linewidth=1,
            label=f"flood threshold ({threshold:g})",
            gid="incidentkit:rate:threshold",
        )
        spike = rate["packets"] >= threshold
        step = pd.Timedelta(freq)
        first = True
        for start in rate.index[spike]:
            ax.axvspan(
                start,
                start + step,
                color="#d62728",
                alpha=0.15,
                label="above threshold" if first else None,
                gid="incidentkit:rate:spike",
            )
            first = False
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=0, top=max(float(rate["packets"].max()), threshold or 0) * 1.15)
    _time_axis(ax, times)
    handles, labels = ax.get_legend_handles_labels()
    if twin is not ax:
        more, more_labels = twin.get_legend_handles_labels()
        handles, labels = handles + more, labels + more_labels
    ax.legend(handles, labels, loc="upper left", fontsize="small")
    ax.grid(alpha=0.3)
    return ax


@_plain_text
def plot_latency(
    transactions: pd.DataFrame,
    *,
    ax: Axes | None = None,
    title: str = "Time from each query to its outcome",
) -> Axes:
    """Latency of each query to its outcome, one series per outcome.

    Queries that got no response have no latency; the legend counts them.

    Examples
    --------
    >>> from incidentkit import dns_transactions, read_tcpdump
    >>> tx = dns_transactions(read_tcpdump("data/yummyrecipesforme_dns_icmp.log"))
    >>> ax = plot_latency(tx, ax=plt.figure().add_subplot())
    >>> [round(float(y), 3) for y in ax.collections[0].get_offsets()[:, 1]]
    [3.906, 43.742, 17.83]
    """
    ax = _axes(ax)
    ylabel = "latency (s)"
    if transactions.empty:
        return _nothing(ax, title, "no DNS query in the capture", "time", ylabel)
    if (transactions["outcome"] == "no_response").all():
        return _nothing(
            ax,
            title,
            f"no query got a response or an error ({len(transactions)} without a response)",
            "time",
            ylabel,
        )
    for outcome, color in _OUTCOME_COLORS.items():
        part = transactions.loc[transactions["outcome"] == outcome]
        if part.empty:
            continue
        if outcome == "no_response":
            ax.scatter(
                [],
                [],
                marker="x",
                color=color,
                label=f"no response ({len(part)})",
                gid="incidentkit:latency:no_response",
            )
            continue
        seconds = part["latency"].dt.total_seconds()
        ax.scatter(
            part["time"],
            seconds,
            color=color,
            s=30,
            label=f"{_OUTCOME_WORDS[outcome]} ({len(part)})",
            gid=f"incidentkit:latency:{outcome}",
        )
    ax.set_ylim(bottom=0)
    return _finish(ax, title, ylabel, transactions["time"].dropna())


@_plain_text
def plot_icmp_errors(
    data: pd.DataFrame,
    *,
    ax: Axes | None = None,
    title: str = "ICMP errors over time",
) -> Axes:
    """ICMP and ICMPv6 errors by reason (rows) and by sender (colours) over time.

    Examples
    --------
    >>> from incidentkit import read_tcpdump
    >>> ax = plot_icmp_errors(read_tcpdump("data/yummyrecipesforme_dns_icmp.log"),
    ...                       ax=plt.figure().add_subplot())
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['port unreachable']
    """
    ax = _axes(ax)
    errors = icmp_errors(data).dropna(subset=["time"])
    if errors.empty:
        return _nothing(ax, title, "no ICMP error in the capture", "time", "reason")
    reasons = list(dict.fromkeys(errors["reason"].fillna("other")))
    ys = {r: i for i, r in enumerate(reasons)}
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, (sender, part) in enumerate(errors.groupby("sender", sort=True)):
        role = (
            "the destination itself"
            if bool(part["from_destination"].fillna(False).all())
            else "a hop on the path"
        )
        ax.scatter(
            part["time"],
            part["reason"].fillna("other").map(ys),
            s=40,
            color=colors[k % len(colors)],
            marker="v",
            label=f"from {sender} ({role}, {len(part)})",
            gid=f"incidentkit:icmp:{sender}",
        )
    ax.set_yticks(range(len(reasons)), reasons)
    ax.set_ylim(-0.5, len(reasons) - 0.5)
    return _finish(ax, title, "reason", errors["time"], grid="x")
