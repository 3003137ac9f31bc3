"""Several inputs read as one frame: a site's sensors, or a capture rotated into files."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .. import schema
from ..errors import InputError


def input_names(paths: Sequence[str | os.PathLike[str]]) -> list[str]:
    """The inputs' names as the ``source`` column holds them; each input once."""
    names = [os.fspath(p) for p in paths]
    if not names:
        raise InputError("no input given")
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise InputError(f"{name}: given twice")
        seen.add(name)
    return names


def with_source(df: pd.DataFrame, index: int, names: list[str], records: int) -> pd.DataFrame:
    """``df`` (one input's frame) with the ``source`` column of input ``index`` and its
    records numbered on from ``records``."""
    if records:
        df["record"] += records
    codes: Any = np.full(len(df), index, dtype=np.int16 if len(names) < 2**15 else np.int32)
    dtype: Any = schema.source_dtype(names)
    df[schema.SOURCE] = pd.Categorical.from_codes(codes, dtype=dtype)
    return df


def read_many(paths: Sequence[str | os.PathLike[str]], **kwargs: Any) -> pd.DataFrame:
    """Read every input (captures and text logs alike, see :func:`incidentkit.read`) into
    one frame: the inputs' rows in the order given, records numbered on across them, and a
    ``source`` column naming the input of each row. ``attrs["capture"]`` holds a list with
    each input's own metadata; a reader's warning names its input."""
    from .pcap import read

    names = input_names(paths)
    frames, captures, records = [], [], 0
    for i, name in enumerate(names):
        df = read(name, **kwargs)
        captures.append(df.attrs.get("capture", {}))
        df.attrs = {}
        frames.append(with_source(df, i, names, records))
        records += len(df)
    out = pd.concat(frames, ignore_index=True)
    out.attrs["capture"] = {"sources": captures}
    return out
