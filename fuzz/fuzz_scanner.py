"""Coverage-guided fuzzing of the C scanner (atheris, libFuzzer), with the two engines
held to one frame.

Each input is a byte string, and on it:

- ``_fastscan.scan`` runs on an exact-size copy (a read past its end is an
  AddressSanitizer report), with 32-bit and with 64-bit string offsets, over a small
  port table; its output must be well formed (line offsets from 0 to the end, in order;
  one value and one validity bit per line in every column);
- ``_fastscan.compact`` packs the lines the scan found, and rows made of the input's
  first bytes;
- an input under ``FUZZ_DIFF_MAX_LEN`` bytes (4 KiB) is also read whole by
  ``parse_tcpdump`` with ``engine="c"`` and ``engine="python"``: the frames, and
  ``attrs["capture"]`` less how each engine read the log, must be equal (as in
  ``tests/test_engines.py``). That takes about 0.1 s under the sanitizers against a
  millisecond or two for the scans, so while fuzzing it runs on one such input in
  ``FUZZ_DIFF_EVERY`` (32), picked by the input's CRC-32 (the same input is always
  compared, or never); a replay (``fuzz/run.py FILE``) compares every input.

``InputError`` (binary data, a capture file) is the reader's answer to bytes it does
not read, and is no finding when both engines give it; any other exception, a sanitizer
report, a difference between the engines or an input slower than libFuzzer's
``-timeout`` is.

The scan and compact calls here go to ``fuzz/.build/instrumented/_fastscan``, built with
``-fsanitize=fuzzer-no-link,address,undefined``: its coverage guides libFuzzer. The whole
reader runs from the copy of the package in ``fuzz/.build/package``, whose scanner has the
same sanitizers and no coverage counters, so that the sampled comparison of the engines
does not steer which inputs are kept. atheris's ``asan_with_fuzzer.so`` is preloaded:
``fuzz/run.py`` builds all this and starts the harness. Arguments are libFuzzer's.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
BUILD = Path(os.environ.get("INCIDENTKIT_FUZZ_BUILD", HERE / ".build"))
DIFF_MAX_LEN = int(os.environ.get("FUZZ_DIFF_MAX_LEN", 4096))
DIFF_EVERY = max(1, int(os.environ.get("FUZZ_DIFF_EVERY", 32)))

sys.path[:0] = [str(BUILD / "instrumented"), str(BUILD / "package")]
try:
    import _fastscan as built  # type: ignore[import-not-found]
    import atheris
    import engines  # (beside this file)
    import numpy as np
    import pandas as pd

    from incidentkit.errors import InputError, ParseWarning
    from incidentkit.parse import _cpath as cpath
    from incidentkit.parse import parse_tcpdump
except ImportError as exc:  # (undefined __asan_*/__sanitizer_cov_* symbols: no preload)
    sys.exit(f"fuzz_scanner: {exc}\nstart it with fuzz/run.py, which builds and preloads")

for module, where in ((built, "instrumented"), (cpath._fastscan, "package")):
    if module is None or not module.__file__.startswith(str(BUILD / where)):
        sys.exit(f"fuzz_scanner: not the sanitized scanner of {BUILD / where}: {module!r}")

#: a few of the names tcpdump prints for ports, as the scanner's table
PORTS = {"domain": 53, "http": 80, "https": 443, "ntp": 123, "ssh": 22, "bootps": 67,
         "bootpc": 68, "mdns": 5353, "isakmp": 500, "x": 1}  # fmt: skip


def exact(data: bytes) -> np.ndarray:
    # a buffer of exactly len(data) bytes, malloc's own (Python's small-object allocator
    # would hide a read past the end from AddressSanitizer)
    return np.frombuffer(data, np.uint8).copy()


def offsets_of(block: object, wide: bool) -> np.ndarray:
    return np.frombuffer(block, np.int64 if wide else np.int32)  # type: ignore[call-overload]


def check_scan(data: bytes, wide: bool) -> np.ndarray:
    """Scan ``data`` and check the shape of what comes back; the line offsets."""
    out = built.scan(exact(data), PORTS, wide)
    n = out["n"]
    lines = np.frombuffer(out["offsets"], np.int64)
    assert out["wide"] is wide, out["wide"]
    assert len(lines) == n + 1 and lines[0] == 0 and lines[-1] == len(data), (n, lines)
    assert (np.diff(lines) > 0).all(), lines
    assert len(out["code"]) == n and len(out["ok"]) == n
    for name, dtype in cpath._FAST_NUMBERS.items():
        values, valid = out[name]
        assert len(values) == n * dtype.bit_width // 8 and len(valid) >= (n + 7) // 8, name
    for name in cpath._FAST_STRINGS:
        starts, text, valid = out[name]
        at = offsets_of(starts, wide)
        assert len(at) == n + 1 and at[0] == 0 and at[-1] == len(text), name
        assert (np.diff(at) >= 0).all() and len(valid) >= (n + 7) // 8, name
    return lines


def check_compact(data: bytes, lines: np.ndarray) -> None:
    """Pack the scan's lines, then rows made of the input's bytes (out of order, out of
    the buffer, negative: refused with ValueError or packed, never a sanitizer report)."""
    packed = np.frombuffer(
        built.compact(exact(data), lines[:-1].copy(), lines[1:].copy()), np.int64
    )
    assert len(packed) == len(lines) and packed[-1] <= len(data), packed
    head = np.frombuffer(data[: 2 * min(8, len(data) // 2)], np.uint8).astype(np.int64)
    bounds = head % (len(data) + 3) - 1
    with contextlib.suppress(ValueError):
        built.compact(exact(data), bounds[0::2].copy(), bounds[1::2].copy())


def read(data: bytes, engine: str) -> pd.DataFrame | None:
    try:
        return parse_tcpdump(data, engine=engine)  # type: ignore[arg-type]
    except InputError:
        return None


def check_engines(data: bytes) -> None:
    engines.check_engines(lambda engine: read(data, engine))


def diff_checked(data: bytes) -> bool:
    return len(data) < DIFF_MAX_LEN and zlib.crc32(data) % DIFF_EVERY == 0


compared = 0


def TestOneInput(data: bytes) -> None:  # (the name atheris's examples use)
    global compared
    lines = check_scan(data, False)
    check_scan(data, True)
    check_compact(data, lines)
    if diff_checked(data):
        check_engines(data)
        compared += 1
        # told at 1, 2, 4 ... 64, then every 100 (and 128, 256 ...)
        if compared & (compared - 1) == 0 or compared % 100 == 0:
            print(f"fuzz_scanner: the engines agree on {compared} inputs", file=sys.stderr)


def main() -> None:
    warnings.simplefilter("ignore", ParseWarning)
    # the first reads load what pandas and pyarrow load lazily: not in the first input's time
    for warm in (b"", b"13:24:32.1 IP 192.0.2.1.5353 > 203.0.113.2.53: 1+ A? x. (30)\n"):
        check_engines(warm)
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
