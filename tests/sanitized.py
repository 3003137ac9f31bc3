"""The package's C extensions built under AddressSanitizer and UndefinedBehaviorSanitizer,
for the tests that run them over hostile and corpus input in a process of their own."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from conftest import ROOT


def sanitizer_build(tmp_path: Path, *modules: str) -> tuple[str, dict[str, str]]:
    """A copy of the package with the extension ``modules`` (``_fastscan``, ``_fastpcap``)
    built under the sanitizers, and the environment to run it in. Fails, saying what is
    missing, without gcc or libasan."""
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.fail("gcc is not installed: the sanitizer check needs it (apt-get install gcc)")
    libasan = subprocess.run(
        [gcc, "-print-file-name=libasan.so"], capture_output=True, text=True, check=True
    ).stdout.strip()
    if not os.path.isabs(libasan) or not os.path.exists(libasan):
        pytest.fail(f"gcc has no AddressSanitizer runtime (libasan.so: {libasan!r}); install it")
    package = tmp_path / "package"
    shutil.copytree(
        ROOT / "incidentkit",
        package / "incidentkit",
        ignore=shutil.ignore_patterns("*.so", "__pycache__"),
    )
    # the reader alone: the package's own __init__ loads matplotlib, whose C++ exceptions
    # the preloaded ASan runtime cannot follow (a CHECK failure in its __cxa_throw)
    (package / "incidentkit" / "__init__.py").write_text("")
    flags = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"]
    for module in modules:
        built = (
            package / "incidentkit" / "parse" / (module + sysconfig.get_config_var("EXT_SUFFIX"))
        )
        compile_ = subprocess.run(
            [
                gcc,
                *flags,
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
                str(built),
            ],
            capture_output=True,
            text=True,
        )
        assert compile_.returncode == 0, compile_.stderr
        assert "warning" not in compile_.stderr, compile_.stderr
    env = {
        **os.environ,
        "LD_PRELOAD": libasan,
        "ASAN_OPTIONS": "detect_leaks=0",  # (CPython keeps memory to the end by design)
        "UBSAN_OPTIONS": "print_stacktrace=1",
    }
    return str(package), env


def run_sanitized(
    tmp_path: Path, driver: str, package: str, env: dict[str, str], files: list[Path], what: str
) -> str:
    """Run ``driver`` (a script: argv is the package's copy, then ``files``) with the
    sanitized build; fail on its exit status or any sanitizer's report. Its output."""
    script = tmp_path / "drive.py"
    script.write_text(driver)
    run = subprocess.run(
        [sys.executable, str(script), package, *map(str, files)],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    report = run.stderr[-20_000:]
    assert run.returncode == 0, f"the sanitized {what} failed:\n{report}"
    for sign in ("AddressSanitizer", "runtime error", "LeakSanitizer"):
        assert sign not in run.stderr, report
    return run.stdout.strip()
