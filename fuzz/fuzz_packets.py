"""Coverage-guided fuzzing of the capture reader's compiled decoder (atheris, libFuzzer),
with the two engines held to one frame.

Each input is one packet: its first byte picks the link type (of :data:`LINKTYPES`), the
rest is the packet's captured bytes. On it:

- ``_fastpcap.decode`` runs on an exact-size copy of the packet (a read past its end is an
  AddressSanitizer report), as a packet of that link type and alone in its buffer; its
  output must be well formed (one row; every string column's offsets in order, within
  its text; a flag of 0 or 1 saying whether the compiled decoder read it);
- ``_fastpcap.walk`` runs over the input taken as a pcap file's records, and
  ``_fastpcap.walk_epb`` over it taken as a run of pcapng Enhanced Packet Blocks;
- one input in ``FUZZ_DIFF_EVERY`` (8), picked by its CRC-32, is also written as a pcap
  of that one packet and read by ``read_pcap`` with ``engine="c"`` and
  ``engine="python"``: the frames, and ``attrs["capture"]`` less how each engine read it,
  must be equal (as in ``tests/test_pcap_engines.py``). A replay compares every input.

The decode and walk calls go to ``fuzz/.build/instrumented/_fastpcap``, built with
``-fsanitize=fuzzer-no-link,address,undefined``; the whole reader runs from the copy of
the package in ``fuzz/.build/package``, whose decoder has the same sanitizers and no
coverage counters. ``fuzz/run.py`` builds all this and starts the harness.
"""

from __future__ import annotations

import io
import os
import struct
import sys
import warnings
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
BUILD = Path(os.environ.get("INCIDENTKIT_FUZZ_BUILD", HERE / ".build"))
DIFF_EVERY = max(1, int(os.environ.get("FUZZ_DIFF_EVERY", 8)))

sys.path[:0] = [str(BUILD / "instrumented"), str(BUILD / "package")]
try:
    import _fastpcap as built  # type: ignore[import-not-found]
    import atheris
    import engines  # (beside this file)
    import numpy as np
    import pandas as pd

    from incidentkit.errors import InputError, ParseWarning
    from incidentkit.parse import pcap as reader
except ImportError as exc:  # (undefined __asan_*/__sanitizer_cov_* symbols: no preload)
    sys.exit(f"fuzz_packets: {exc}\nstart it with fuzz/run.py, which builds and preloads")

for module, where in ((built, "instrumented"), (reader._fastpcap, "package")):
    if module is None or not module.__file__.startswith(str(BUILD / where)):
        sys.exit(f"fuzz_packets: not the sanitized decoder of {BUILD / where}: {module!r}")

from run import PACKET_LINKTYPES as LINKTYPES  # noqa: E402  (the seeds are made with it)


def exact(data: bytes) -> np.ndarray:
    # a buffer of exactly len(data) bytes, malloc's own (Python's small-object allocator
    # would hide a read past the end from AddressSanitizer)
    return np.frombuffer(data, np.uint8).copy()


def check_decode(packet: bytes, linktype: int) -> None:
    fixed = reader.fixed_columns(1)
    out = built.decode(
        exact(packet),
        np.array([0], np.int64),
        np.array([len(packet)], np.int64),
        np.array([linktype], np.int32),
        np.array([1_700_000_000 * 10**9], np.int64),
        tuple(fixed.values()),
    )
    done = fixed["done"]
    assert len(done) == 1 and done[0] in (False, True), done
    assert (fixed["proto"][0] >= 0) == done[0], (fixed["proto"], done)
    for name in built.STR_COLUMNS:
        starts, text, _valid = out[name]
        at = np.frombuffer(starts, np.int64)
        assert len(at) == 2 and 0 == at[0] <= at[1] == len(text), (name, at, len(text))


def capture(packet: bytes, linktype: int) -> bytes:
    head = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, linktype)
    return head + struct.pack("<IIII", 1_700_000_000, 5, len(packet), len(packet)) + packet


def read(data: bytes, engine: str) -> pd.DataFrame | None:
    try:
        return reader.read_pcap(io.BytesIO(data), engine=engine)  # type: ignore[arg-type]
    except InputError:
        return None


def check_engines(data: bytes) -> None:
    engines.check_engines(lambda engine: read(data, engine))


compared = 0


def TestOneInput(data: bytes) -> None:  # (the name atheris's examples use)
    global compared
    if not data:
        return
    linktype, packet = LINKTYPES[data[0] % len(LINKTYPES)], data[1:]
    check_decode(packet, linktype)
    built.walk(exact(data), 0, 16, data[0] & 1, 0)
    built.walk_epb(exact(data), 0, data[0] & 1, data[0] >> 1)
    if zlib.crc32(data) % DIFF_EVERY == 0:
        check_engines(capture(packet, linktype))
        compared += 1
        if compared & (compared - 1) == 0 or compared % 100 == 0:
            print(f"fuzz_packets: the engines agree on {compared} inputs", file=sys.stderr)


def main() -> None:
    warnings.simplefilter("ignore", ParseWarning)
    check_engines(capture(b"", 1))  # (what pandas and pyarrow load lazily, loaded now)
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
