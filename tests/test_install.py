"""The user's install: the wheel, built from this checkout, installed into a fresh venv,
makes a report outside the checkout (the report notebook and its template ship inside
the package)."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest
from conftest import ROOT, SEED_LOG


def run(cmd: list[str], cwd: Path, timeout: int) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{cmd}\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("install")
    wheels = base / "wheels"
    pip = [sys.executable, "-m", "pip"]
    run([*pip, "wheel", "--quiet", "--no-deps", "-w", str(wheels), str(ROOT)], base, 600)
    (wheel,) = wheels.glob("incidentkit-*.whl")
    env_dir = base / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    run([str(python), "-m", "pip", "install", "--quiet", str(wheel)], base, 900)
    return env_dir


def test_the_wheel_holds_the_notebooks_and_the_template(installed: Path):
    python = installed / "bin" / "python"
    out = run(
        [str(python), "-c", "import incidentkit.report as r; print(r.DEFAULT_NOTEBOOK)"],
        installed,
        120,
    )
    notebook = Path(out.stdout.strip())
    assert notebook.is_relative_to(installed) and notebook.exists()
    assert not notebook.is_relative_to(ROOT)


def test_an_installed_kit_makes_a_report_outside_the_checkout(installed: Path, tmp_path: Path):
    work = tmp_path / "elsewhere"
    work.mkdir()
    log = work / "capture.log"
    log.write_bytes(SEED_LOG.read_bytes())
    result = run(
        [str(installed / "bin" / "incidentkit"), "report", "capture.log", "-o", "r.html"],
        work,
        600,
    )
    html = (work / "r.html").read_text()
    assert "the DNS service on 203.0.113.2 is not running" in html
    assert "Follow-up report: DNS on 203.0.113.2, date unknown" in html
    assert "without encryption" not in result.stderr


def test_an_install_without_the_dask_extra_reads_several_inputs_and_says_what_dask_needs(
    installed: Path, tmp_path: Path
):
    import shutil

    for name in ("a.log", "b.log"):
        shutil.copy(SEED_LOG, tmp_path / name)
    kit = str(installed / "bin" / "incidentkit")
    alone = run([kit, "diagnose", "a.log", "b.log"], tmp_path, 300)
    assert "cause: service_down" in alone.stdout and "what each sensor" in alone.stdout
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    result = subprocess.run(
        [kit, "diagnose", "a.log", "b.log", "--dask", "local"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2, result.stderr
    assert "--dask needs Dask: pip install 'incidentkit[dask]'" in result.stderr
    assert "Traceback" not in result.stderr
