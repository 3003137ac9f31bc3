"""Traffic rates: how much arrives at a port per interval, and from how many sources."""

from __future__ import annotations

import pandas as pd


def traffic_rate(
    df: pd.DataFrame,
    *,
    port: int = 53,
    freq: str = "1s",
    server: str | None = None,
) -> pd.DataFrame:
    """Packets per interval to ``port`` (UDP or TCP), with the distinct sources per interval.

    Parameters
    ----------
    df : pandas.DataFrame
        A frame of :func:`incidentkit.read_tcpdump`.
    port : int, default 53
        Destination port to count.
    freq : str, default "1s"
        Interval length, as pandas understands it ("1s", "100ms", "1min").
    server : str, optional
        Count only packets to this address.

    Returns
    -------
    pandas.DataFrame
        Indexed by interval start over the whole capture (quiet intervals count 0),
        with columns ``packets`` and ``sources``. Empty when the log has no times.

    Examples
    --------
    >>> from incidentkit import read_tcpdump
    >>> rate = traffic_rate(read_tcpdump("data/yummyrecipesforme_dns_icmp.log"), freq="1min")
    >>> rate["packets"].tolist()
    [1, 0, 1, 0, 1]
    """
    times = df["time"].dropna()
    empty = pd.DataFrame(
        {"packets": pd.Series([], dtype="int64"), "sources": pd.Series([], dtype="int64")},
        index=pd.DatetimeIndex([], name="time"),
    )
    if times.empty:
        return empty
    mask = df["proto"].isin(["udp", "tcp"]) & (df["dport"] == port).fillna(False)
    if server is not None:
        mask &= (df["dst"] == server).fillna(False)
    hits = df.loc[mask & df["time"].notna(), ["time", "src"]]
    start = times.min().floor(freq)
    end = times.max().floor(freq)
    index = pd.date_range(start, end, freq=freq, name="time")
    if hits.empty:
        return pd.DataFrame({"packets": 0, "sources": 0}, index=index)
    bins = hits["time"].dt.floor(freq)
    grouped = hits.groupby(bins)["src"]
    out = pd.DataFrame({"packets": grouped.size(), "sources": grouped.nunique()})
    out = out.reindex(index, fill_value=0).astype("int64")
    out.index.name = "time"
    return out
