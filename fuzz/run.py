"""Fuzz the C scanner and the capture decoder for a bounded time (``make fuzz``), or
replay inputs.

    .venv/bin/python fuzz/run.py                    # FUZZ_SECONDS (default 60) of each
    FUZZ_TARGET=packets .venv/bin/python fuzz/run.py              # the decoder only
    .venv/bin/python fuzz/run.py fuzz/findings/X    # run fuzz_scanner.py once on each file
    FUZZ_TARGET=packets .venv/bin/python fuzz/run.py fuzz/findings/packets-X
    .venv/bin/python fuzz/run.py -- -runs=1000      # arguments after -- go to libFuzzer

Two targets: ``scanner`` (``fuzz_scanner.py``: the text reader's ``_fastscan``, its inputs
pieces of logs) and ``packets`` (``fuzz_packets.py``: the capture reader's ``_fastpcap``,
its inputs single packets, seeded from every packet kind of the scenario and corpus
captures; its corpus is ``fuzz/corpus-packets/``, its findings ``fuzz/findings/packets-*``).

Steps: clang and its runtimes (Debian's ``clang`` and ``libclang-rt-dev``, installed
with apt-get when missing and this runs as root); atheris, built from source in this
environment against that clang, so that its ``asan_with_fuzzer.so`` (the AddressSanitizer
runtime with libFuzzer linked in) matches the instrumentation; the scanner compiled with
``-fsanitize=fuzzer-no-link,address,undefined`` in ``fuzz/.build/instrumented``, and with
``-fsanitize=address,undefined`` in a copy of the package in ``fuzz/.build/package`` (see
``build``); seeds in ``fuzz/.build/seeds`` (the seed's log, the scenario renderings,
tcpdump's regression outputs in ``../shared`` when they are there, large files cut into
pieces of a few KiB at record starts); then ``fuzz_scanner.py`` under libFuzzer. Inputs
that add coverage are kept in ``fuzz/corpus/`` (the next run starts from them); crashes,
engine differences and slow inputs are written to ``fuzz/findings/``.

Exit status: 0 when the run found nothing, 1 on a finding, 2 when the tools are missing
or the build fails.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import platform
import re
import shutil
import subprocess
import sys
import sysconfig
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FUZZ = ROOT / "fuzz"
BUILD = FUZZ / ".build"
PACKAGE = BUILD / "package"
INSTRUMENTED = BUILD / "instrumented"
SEEDS = BUILD / "seeds"
CORPUS = FUZZ / "corpus"
FINDINGS = FUZZ / "findings"
TCPDUMP_TESTS = ROOT.parent / "shared" / "corpus" / "tcpdump-tests"

#: built here from its source release, never taken as a wheel (a wheel's libFuzzer and
#: sanitizer runtime come from another clang than the one that builds the scanner)
ATHERIS = "atheris==3.0.0"
MAX_LEN = 64 * 1024  # -max_len: the largest input libFuzzer makes
TIMEOUT = 5  # -timeout, seconds for one input: the scanner is linear, 64 KiB take ms
PIECE = 4 * 1024  # seeds: large files are cut into pieces of about this size ...
PIECES_PER_FILE = 8  # ... and at most this many of them, spread over the file, are kept
SLACK = 600  # seconds past FUZZ_SECONDS after which a run that has not ended is stopped


def say(message: str) -> None:
    print(f"fuzz: {message}", flush=True)


def fail(message: str) -> None:
    print(f"fuzz: {message}", file=sys.stderr, flush=True)
    sys.exit(2)


# --------------------------------------------------------------------------- tools
def apt_install(packages: list[str], why: str) -> None:
    command = f"apt-get install {' '.join(packages)}"
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        fail(f"{why}: install the Debian packages with `{command}` (as root), then run again")
    say(f"{why}: {command}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for step in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages],
    ):
        if subprocess.run(step, env=env, timeout=1800).returncode != 0:
            fail(f"`{' '.join(step)}` failed")


def find_clang() -> str | None:
    if os.environ.get("CLANG"):
        return shutil.which(os.environ["CLANG"])
    if found := shutil.which("clang"):
        return found
    versions = sorted(
        (int(p.name.split("-")[1]), str(p))
        for d in os.environ.get("PATH", "").split(os.pathsep)
        if os.path.isdir(d)
        for p in Path(d).glob("clang-[0-9]*")
        if p.name.split("-")[1].isdigit()
    )
    return versions[-1][1] if versions else None


def clang() -> str:
    found = find_clang()
    if found is None:
        apt_install(["clang", "libclang-rt-dev"], "clang is not installed")
        found = find_clang()
    if found is None:
        fail("clang is still not on PATH after installing it; set CLANG=/path/to/clang")
    return str(found)


def tool_output(*command: str) -> str:
    return subprocess.run(command, capture_output=True, text=True, timeout=60).stdout.strip()


def libfuzzer_archive(cc: str) -> Path | None:
    """libFuzzer without its main(), from clang's runtime directory: what atheris links."""
    runtime = Path(tool_output(cc, "-print-runtime-dir"))
    found = sorted(runtime.glob("libclang_rt.fuzzer_no_main*.a"))
    for path in found:
        if path.name in (
            f"libclang_rt.fuzzer_no_main-{platform.machine()}.a",
            "libclang_rt.fuzzer_no_main.a",
        ):
            return path
    return found[0] if found else None


def preload() -> Path | None:
    """atheris's asan_with_fuzzer.so, when atheris is installed here with it."""
    where = subprocess.run(
        [sys.executable, "-c", "import atheris; print(atheris.path())"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if where.returncode != 0:
        return None
    path = Path(where.stdout.strip()) / "asan_with_fuzzer.so"
    return path if path.exists() else None


def atheris(cc: str) -> Path:
    found = preload()
    if found is not None:
        return found
    if sys.prefix == sys.base_prefix:
        fail(f"{sys.executable} is no virtual environment: run this with .venv/bin/python")
    archive = libfuzzer_archive(cc)
    if archive is None:
        major = tool_output(cc, "-dumpversion").split(".")[0]
        apt_install([f"libclang-rt-{major}-dev"], f"{cc} has no libFuzzer runtime")
        archive = libfuzzer_archive(cc)
    if archive is None:
        fail(f"no libclang_rt.fuzzer_no_main archive in `{cc} -print-runtime-dir`")
    say(f"building {ATHERIS} from source against {cc} (a few minutes, once)")
    env = {**os.environ, "CLANG_BIN": cc, "LIBFUZZER_LIB": str(archive)}
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-binary", "atheris"]
    # (--force-reinstall: an atheris installed from a wheel has no asan_with_fuzzer.so)
    if subprocess.run([*pip, "--force-reinstall", ATHERIS], env=env, timeout=3600).returncode:
        fail(f"`pip install --no-binary atheris {ATHERIS}` failed")
    found = preload()
    if found is None:
        fail(f"{ATHERIS} installed without asan_with_fuzzer.so (no ASan runtime in {cc}'s?)")
    return found


# --------------------------------------------------------------------------- the build
#: each target: its harness, the extension it fuzzes, where its inputs are kept and seeded
PACKET_CORPUS, PACKET_SEEDS = FUZZ / "corpus-packets", BUILD / "seeds-packets"
#: the link types a packet input's first byte picks from: those the decoders read, and
#: one they do not
PACKET_LINKTYPES = (1, 113, 276, 101, 228, 229, 0, 108, 9, 50, 104, 226, 12, 147, 239)
TARGETS = {
    "scanner": ("fuzz_scanner.py", "_fastscan", CORPUS, SEEDS, ""),
    "packets": ("fuzz_packets.py", "_fastpcap", PACKET_CORPUS, PACKET_SEEDS, "packets-"),
}


def compile_scanner(cc: str, sanitizers: str, out: Path, module: str = "_fastscan") -> None:
    command = [
        cc,
        f"-fsanitize={sanitizers}",
        "-fno-sanitize-recover=all",
        "-fno-omit-frame-pointer",
        "-O1",
        "-g",
        "-std=c99",
        "-Wall",
        "-Wextra",
        "-Wno-unused-parameter",
        "-fPIC",
        "-shared",
        f"-I{sysconfig.get_paths()['include']}",
        str(ROOT / "incidentkit" / "parse" / f"{module}.c"),
        "-o",
        str(out),
    ]
    compiled = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if compiled.returncode != 0:
        fail(f"the sanitized {module} does not compile:\n{compiled.stderr}")
    if compiled.stderr.strip():
        print(compiled.stderr, file=sys.stderr)
    counted = b"__sanitizer_cov_8bit_counters_init" in out.read_bytes()
    if counted != ("fuzzer-no-link" in sanitizers):
        fail(f"{out}: libFuzzer's coverage counters {'missing' if counted else 'present'}")


def build(cc: str) -> None:
    """The scanner twice, both with AddressSanitizer and UndefinedBehaviorSanitizer:
    INSTRUMENTED/_fastscan, with libFuzzer's coverage counters, for the harness's own
    calls; and in a copy of the package in PACKAGE, without them, for the whole reader
    (so that the engines' comparison, made on a sample of inputs, does not bias the
    corpus towards that sample)."""
    shutil.rmtree(PACKAGE, ignore_errors=True)
    shutil.rmtree(INSTRUMENTED, ignore_errors=True)
    shutil.copytree(
        ROOT / "incidentkit",
        PACKAGE / "incidentkit",
        ignore=shutil.ignore_patterns("*.so", "__pycache__"),
    )
    # the reader alone: the package's own __init__ loads matplotlib, whose C++ exceptions
    # the preloaded ASan runtime cannot follow (as in tests/test_hostile.py)
    (PACKAGE / "incidentkit" / "__init__.py").write_text("")
    INSTRUMENTED.mkdir(parents=True)
    for module in ("_fastscan", "_fastpcap"):
        name = module + sysconfig.get_config_var("EXT_SUFFIX")
        compile_scanner(cc, "fuzzer-no-link,address,undefined", INSTRUMENTED / name, module)
        compile_scanner(cc, "address,undefined", PACKAGE / "incidentkit" / "parse" / name, module)
    version = tool_output(cc, "--version").splitlines()[0]
    say(f"built the scanner and the decoder in {BUILD.relative_to(ROOT)}/ with {version}")


# --------------------------------------------------------------------------- seeds
def seed_sources() -> list[Path]:
    scenarios = ROOT / "data" / "scenarios"
    paths = [
        *sorted((ROOT / "data").glob("*.log")),
        *sorted(scenarios.glob("*.txt")),
        *sorted(scenarios.glob("*.txt.gz")),
        *sorted(scenarios.glob("*/*.txt")),
        *sorted(scenarios.glob("*/*.txt.gz")),
    ]
    if TCPDUMP_TESTS.is_dir():
        paths += sorted(TCPDUMP_TESTS.glob("*.out"))
    return paths


def pieces(data: bytes) -> list[bytes]:
    """``data`` in pieces of about PIECE bytes, each cut before a line that starts a record
    (no blank at its start: a -v record's lines stay together), at most PIECES_PER_FILE
    of them spread over the file; none longer than MAX_LEN."""
    out: list[bytes] = []
    piece: list[bytes] = []
    size = 0
    for line in io.BytesIO(data):
        if size >= PIECE and line[:1] not in (b" ", b"\t"):
            out.append(b"".join(piece))
            piece, size = [], 0
        piece.append(line)
        size += len(line)
    if piece:
        out.append(b"".join(piece))
    if len(out) > PIECES_PER_FILE:
        step = (len(out) - 1) / (PIECES_PER_FILE - 1)
        out = [out[round(k * step)] for k in range(PIECES_PER_FILE)]
    return [p[:MAX_LEN] for p in out]


def seed_packets(seeds: Path) -> int:
    """Seeds of the packets target: of each scenario and corpus capture, the first packet
    of each kind (link type, protocol, DNS query or response, ICMP type), as an input: a
    byte that picks the link type, then the packet."""
    sys.path.insert(0, str(ROOT))
    from incidentkit.parse import read_pcap
    from incidentkit.parse._pcapfile import read_frames

    LINKTYPES = PACKET_LINKTYPES
    shutil.rmtree(seeds, ignore_errors=True)
    seeds.mkdir(parents=True)
    captures = sorted((ROOT / "data" / "scenarios").glob("*.pcap*"))
    captures += sorted((ROOT / "data" / "cases").glob("*.pcap"))
    if TCPDUMP_TESTS.is_dir():
        captures += sorted(TCPDUMP_TESTS.glob("*.pcap*"))
    for path in captures:
        try:
            frames = read_frames(path.read_bytes(), path.name)
            df = read_pcap(path, engine="python")
        except Exception:
            continue
        columns = [df[c].astype(object).tolist() for c in ("proto", "dns_qr", "icmp_type")]
        firsts: dict[tuple[object, ...], int] = {}
        for i, kind in enumerate(zip(*columns, strict=True)):
            firsts.setdefault(tuple(str(v) for v in kind), i)
        for i in list(firsts.values())[:64]:
            lt = int(frames.linktype[i])
            if lt not in LINKTYPES:
                continue
            o, c = int(frames.offset[i]), int(frames.caplen[i])
            piece = bytes([LINKTYPES.index(lt)]) + frames.data[o : o + c][: MAX_LEN - 1]
            (seeds / hashlib.sha1(piece).hexdigest()).write_bytes(piece)
    count = sum(1 for _ in seeds.iterdir())
    say(f"{count} packet seeds from {len(captures)} captures")
    return count


def seed() -> int:
    shutil.rmtree(SEEDS, ignore_errors=True)
    SEEDS.mkdir(parents=True)
    sources = seed_sources()
    for path in sources:
        data = path.read_bytes()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        for piece in pieces(data):
            (SEEDS / hashlib.sha1(piece).hexdigest()).write_bytes(piece)
    count = sum(1 for _ in SEEDS.iterdir())
    where = "" if TCPDUMP_TESTS.is_dir() else f" ({TCPDUMP_TESTS} is absent)"
    say(f"{count} seeds from {len(sources)} files{where}")
    return count


# --------------------------------------------------------------------------- the run
def run(
    asan: Path, args: list[str], env_extra: dict[str, str], limit: float, harness: str
) -> tuple[int, str]:
    """Run the harness under libFuzzer, its output shown and kept; its exit status and
    output. Stopped (status -9) if it is still running after ``limit`` seconds."""
    env = {
        **os.environ,
        **env_extra,
        "LD_PRELOAD": str(asan),
        "ASAN_OPTIONS": "detect_leaks=0",  # (CPython keeps memory to the end by design)
        "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
        "INCIDENTKIT_FUZZ_BUILD": str(BUILD),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    command = [sys.executable, str(FUZZ / harness), *args]
    log = BUILD / "fuzz.log"
    with open(log, "w") as kept:
        proc = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            errors="replace",
        )  # fmt: skip
        timer = threading.Timer(limit, proc.kill)
        timer.start()
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                sys.stdout.write(line)
                kept.write(line)
            rc = proc.wait()
        finally:
            timer.cancel()
    return rc, log.read_text()


def stat(output: str, name: str) -> str:
    found = re.findall(rf"^stat::{name}:\s*(\d+)", output, re.M)
    return found[-1] if found else "?"


def summary(output: str) -> str:
    """Runs, speed and coverage, from libFuzzer's final stats or (after a crash, which
    skips them) its last status line."""
    status = re.findall(
        r"^#(\d+)\s+\w+\s+cov: (\d+) ft: (\d+) corp: (\d+)/(\S+)(?:.*?exec/s: (\d+))?",
        output,
        re.M,
    )
    counters = re.findall(r"INFO: Loaded \d+ modules?\s+\((\d+) inline 8-bit counters\)", output)
    runs, per_second = (
        stat(output, "number_of_executed_units"),
        stat(output, "average_exec_per_sec"),
    )
    if runs == "?" and status:
        runs, per_second = status[-1][0], status[-1][5] or "?"
    text = f"{runs} runs, {per_second} exec/s" if runs != "?" else "stopped before fuzzing"
    if status:
        _, cov, ft, units, size, _ = status[-1]
        edges = f" of {sum(map(int, counters))} edges" if counters else ""
        text += f"; coverage: {cov}{edges} (cov), {ft} features (ft); corpus {units} inputs/{size}"
    agree = re.findall(r"^fuzz_\w+: the engines agree on (\d+) inputs", output, re.M)
    if agree:
        text += f"; engines compared on at least {agree[-1]} inputs"
    added, rss = stat(output, "new_units_added"), stat(output, "peak_rss_mb")
    if added != "?":
        text += f"; {added} new inputs, peak RSS {rss} MB"
    return text


def fuzz(asan: Path, flags: list[str], target: str) -> int:
    seconds = os.environ.get("FUZZ_SECONDS", "60")
    if not seconds.isdigit() or int(seconds) < 1:
        fail(f"FUZZ_SECONDS must be a whole number of seconds, not {seconds!r}")
    harness, _module, corpus, seeds, prefix = TARGETS[target]
    if target == "packets":
        seed_packets(seeds)
    else:
        seed()
    corpus.mkdir(exist_ok=True)
    FINDINGS.mkdir(exist_ok=True)
    before = set(FINDINGS.iterdir())
    args = [
        str(corpus),  # (the first directory: where libFuzzer keeps the inputs it adds)
        str(seeds),
        f"-max_total_time={seconds}",
        f"-max_len={MAX_LEN}",
        f"-timeout={TIMEOUT}",
        f"-artifact_prefix={FINDINGS}/{prefix}",
        "-rss_limit_mb=4096",  # (Python, pandas and pyarrow under ASan: over the 2048 default)
        "-detect_leaks=0",
        "-print_final_stats=1",
        *flags,
    ]
    say(f"fuzzing the {target} for {seconds} s")
    rc, output = run(asan, args, {}, int(seconds) + SLACK, harness)
    found = sorted(set(FINDINGS.iterdir()) - before)
    say(summary(output))
    if rc == -9:
        say(f"stopped: still running {SLACK} s after FUZZ_SECONDS")
    if found or rc != 0:
        for path in found:
            name = path.relative_to(ROOT)
            again = f"FUZZ_TARGET={target} " if target != "scanner" else ""
            say(f"finding: {name}; replay it: {again}.venv/bin/python fuzz/run.py {name}")
        log = (BUILD / "fuzz.log").relative_to(ROOT)
        say(f"the fuzzer exited with status {rc}; its output is in {log}")
        return 1
    earlier = sorted(p.name for p in FINDINGS.iterdir())
    if earlier:
        say(f"no finding in this run ({len(earlier)} from earlier runs in fuzz/findings/)")
    else:
        say("no finding")
    return 0


def replay(asan: Path, files: list[str], flags: list[str], target: str) -> int:
    """Each file once through the harness, every one of them also read by both engines."""
    out = BUILD / "replay"
    out.mkdir(parents=True, exist_ok=True)
    args = [
        *files,
        f"-timeout={TIMEOUT}",
        f"-artifact_prefix={out}/",
        "-rss_limit_mb=4096",
        "-detect_leaks=0",
        *flags,
    ]
    rc, _ = run(asan, args, {"FUZZ_DIFF_EVERY": "1"}, 3600, TARGETS[target][0])
    say("reproduced" if rc else f"no finding in {len(files)} input(s)")
    return 1 if rc else 0


def main() -> int:
    argv = sys.argv[1:]
    flags = argv[argv.index("--") + 1 :] if "--" in argv else []
    files = argv[: argv.index("--")] if "--" in argv else argv
    missing = [f for f in files if not os.path.isfile(f)]
    if missing:
        fail(f"no such input: {', '.join(missing)}")
    chosen = os.environ.get("FUZZ_TARGET")
    if chosen is not None and chosen not in TARGETS:
        fail(f"FUZZ_TARGET must be one of {', '.join(TARGETS)}, not {chosen!r}")
    cc = clang()
    asan = atheris(cc)
    build(cc)
    if files:
        return replay(asan, files, flags, chosen or "scanner")
    found = 0
    for target in [chosen] if chosen else list(TARGETS):
        found |= fuzz(asan, flags, target)
    return found


if __name__ == "__main__":
    sys.exit(main())
