"""Streams: which inputs read together are parts of one capture, and which are other
sensors' (judged together, never paired with each other)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import schema

Span = tuple[pd.Timestamp | None, pd.Timestamp | None]


def streams(spans: list[Span], inputs: list[int]) -> list[list[int]]:
    """The parts (by position, each with its time span and the input it is of) of each
    stream, in order.

    A part continues the stream of the part before it when it is of the same input (a
    block of a log read in blocks), or when it starts after that stream ends (a capture
    rotated into files); a part that overlaps it in time is another sensor's and starts
    a stream of its own. Streams are judged together but never paired with each other:
    a query in one is never answered by a packet of another.

    Examples
    --------
    >>> t = pd.Timestamp
    >>> streams([(t("10:00"), t("10:05")), (t("10:06"), t("10:09")), (t("10:02"), t("10:03"))],
    ...         [0, 1, 2])
    [[0, 1], [2]]
    """
    out: list[list[int]] = []
    end: pd.Timestamp | None = None
    for i, (start, stop) in enumerate(spans):
        if not (i > 0 and continues(inputs[i] == inputs[i - 1], end, start)):
            out.append([])
            end = None
        out[-1].append(i)
        if stop is not None:
            end = stop if end is None else max(end, stop)
    return out


def continues(same_input: bool, end: pd.Timestamp | None, start: pd.Timestamp | None) -> bool:
    """Whether a part that starts at ``start`` continues a stream that ends at ``end``
    (None: not known): when it is of the same input, or starts after that end."""
    return same_input or start is None or end is None or start >= end


def source_streams(df: pd.DataFrame) -> list[np.ndarray]:
    """A frame's rows by stream (see :func:`streams`): one mask per stream, each input
    placed by its time span; one mask of every row for a frame of one input."""
    if schema.SOURCE not in df.columns:
        return [np.ones(len(df), dtype=bool)]
    codes = df[schema.SOURCE].cat.codes.to_numpy()
    present = sorted(set(codes.tolist()) - {-1})
    if len(present) < 2:
        return [np.ones(len(df), dtype=bool)]
    times = schema.utc_naive(df["time"])
    spans: list[Span] = []
    for c in present:
        t = times[codes == c].dropna()
        spans.append((t.min(), t.max()) if len(t) else (None, None))
    groups = streams(spans, present)
    if len(groups) == 1:
        return [np.ones(len(df), dtype=bool)]
    return [np.isin(codes, [present[i] for i in g]) for g in groups]
