"""What both fuzzing harnesses ask of the two engines: the same frame, or the same refusal."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

#: the metadata both engines give, less how each read the input
HOW_READ = ("engine", "c_rows")


class EnginesDiffer(AssertionError):
    """``engine="c"`` and ``engine="python"`` read one input differently."""


def check_engines(read: Callable[[str], pd.DataFrame | None]) -> None:
    """``read(engine)`` is the frame, or None where the reader refused the input with
    ``InputError``; raise :class:`EnginesDiffer` unless both engines give the same."""
    fast, slow = read("c"), read("python")
    if fast is None or slow is None:
        if (fast is None) != (slow is None):
            raise EnginesDiffer(f"InputError from one engine only (c: {fast is None})")
        return
    try:
        pd.testing.assert_frame_equal(fast, slow)
    except AssertionError as exc:
        raise EnginesDiffer(f"the frames differ: {exc}") from None
    a = {k: v for k, v in fast.attrs["capture"].items() if k not in HOW_READ}
    b = {k: v for k, v in slow.attrs["capture"].items() if k not in HOW_READ}
    if a != b:
        raise EnginesDiffer(f"attrs['capture'] differ:\n c: {a}\n python: {b}")
