"""A JupyterLab server for the browser tests: on 127.0.0.1 only, on a free port, with a
random token, serving a scratch copy of the repository's notebooks and data, with its
own configuration, data, runtime and home directories, and nothing sent to the network.

Used by ``tests/test_jupyterlab.py``; not part of the package. (Not named
``jupyterlab_server``: that is one of JupyterLab's own packages, which this would shadow
on the tests' import path.)
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil  # (a dependency of ipykernel)

#: The user settings the server starts with: no news prompt, no update check in the page.
USER_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


def free_port() -> int:
    """A TCP port on 127.0.0.1 nothing listens on now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def jupyterlab_missing() -> str | None:
    """Why JupyterLab cannot be started from this Python, or None when it can."""
    for module in ("jupyterlab", "jupyter_server", "ipykernel"):
        if importlib.util.find_spec(module) is None:
            return (
                f"{module} is not installed in {sys.executable}: it is a dependency of the "
                "package (pip install -e '.[test]')"
            )
    return None


def _server_version() -> tuple[int, ...]:
    from jupyter_server import version_info

    return tuple(int(part) for part in version_info[:2] if str(part).isdigit())


@dataclass
class LabServer:
    """A running JupyterLab: its address, token, scratch root and process."""

    port: int
    token: str
    root: Path
    log_path: Path
    process: subprocess.Popen[bytes]
    argv: list[str]
    #: every process the server was seen to start (kernels run in their own sessions)
    seen: dict[int, str] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str, **query: str) -> str:
        params = "&".join([f"token={self.token}", *(f"{k}={v}" for k, v in query.items())])
        return f"{self.base_url}/{path.lstrip('/')}?{params}"

    def api(self, method: str, path: str, timeout: float = 10.0) -> Any:
        """Call the server's REST API (``path`` like ``/api/sessions``); the JSON answer."""
        request = urllib.request.Request(
            self.base_url + path,
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body else None

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def track(self) -> dict[int, str]:
        """Record the server's descendants now (kernels included); return them all."""
        try:
            children = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            children = []
        for child in children:
            try:
                self.seen.setdefault(child.pid, " ".join(child.cmdline())[:200])
            except psutil.Error:
                self.seen.setdefault(child.pid, "?")
        return dict(self.seen)

    def shutdown_kernels(self) -> None:
        """Shut down every session's kernel (the server keeps running)."""
        self.track()
        for session in self.api("GET", "/api/sessions"):
            with contextlib.suppress(urllib.error.URLError):
                self.api("DELETE", f"/api/sessions/{session['id']}", timeout=20)


def _environment(home: Path) -> dict[str, str]:
    """The server's environment: the caller's, with every Jupyter, IPython and
    matplotlib location moved into ``home`` so the user's settings cannot leak in."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("JUPYTER", "IPYTHON", "MPL", "PYTHONPATH", "XDG_"))
    }
    dirs = {
        "HOME": home,
        "JUPYTER_CONFIG_DIR": home / "jupyter-config",
        "JUPYTER_DATA_DIR": home / "jupyter-data",
        "JUPYTER_RUNTIME_DIR": home / "jupyter-runtime",
        "IPYTHONDIR": home / "ipython",
        "MPLCONFIGDIR": home / "matplotlib",
        "XDG_CONFIG_HOME": home / "config",
        "XDG_CACHE_HOME": home / "cache",
        "XDG_DATA_HOME": home / "data",
    }
    for path in dirs.values():
        path.mkdir(parents=True, exist_ok=True)
    env.update({key: str(path) for key, path in dirs.items()})
    env["PYTHONNOUSERSITE"] = "1"  # no packages from the user's site directory
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    settings = dirs["JUPYTER_CONFIG_DIR"] / "lab" / "user-settings"
    for name, values in USER_SETTINGS.items():
        target = settings / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values))
    return env


def start_lab(repo: Path, scratch: Path, timeout: float = 60.0) -> LabServer:
    """Copy ``repo``'s ``notebooks/`` and ``data/`` into ``scratch/root`` and serve them;
    wait (at most ``timeout`` seconds) until ``/api/status`` answers."""
    root = scratch / "root"
    root.mkdir(parents=True)
    for name in ("notebooks", "data"):
        shutil.copytree(repo / name, root / name)
    env = _environment(scratch / "home")
    # jupyter_server 2 moved the token to the identity provider (ServerApp.token is
    # deprecated there); 1.x only knows ServerApp.token.
    token = secrets.token_hex(24)
    token_option = "IdentityProvider.token" if _server_version() >= (2, 0) else "ServerApp.token"
    port = free_port()
    argv = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",  # (the port chosen, or fail)
        f"--{token_option}={token}",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.terminals_enabled=False",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",  # (no PyPI look-ups)
        "--LabApp.expose_app_in_browser=True",  # window.jupyterapp, for the commands
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        argv.append("--allow-root")
    log_path = scratch / "jupyterlab.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            argv,
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, to account for at the end
        )
    server = LabServer(port, token, root, log_path, process, argv)
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(
                f"JupyterLab exited with {process.returncode} before answering:\n"
                + server.log_tail()
            )
        try:
            status = server.api("GET", "/api/status", timeout=2)
            if "started" in status:
                return server
        except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError):
            pass
        if time.monotonic() > deadline:
            stop_lab(server)
            raise RuntimeError(
                f"JupyterLab did not answer on port {port} within {timeout:.0f} s:\n"
                + server.log_tail()
            )
        time.sleep(0.25)


def _group_members(pgid: int) -> list[psutil.Process]:
    members = []
    for proc in psutil.process_iter():
        try:
            if os.getpgid(proc.pid) == pgid and proc.status() != psutil.STATUS_ZOMBIE:
                members.append(proc)
        except (ProcessLookupError, psutil.Error):
            continue
    return members


def stop_lab(server: LabServer, timeout: float = 20.0) -> list[str]:
    """Stop the server: SIGTERM to its pid (it shuts its kernels down), wait, then
    SIGKILL what is left of it, its process group and every process it was seen to
    start. Returns a description of each process that was still alive after the
    polite stop (empty when the server cleaned up after itself)."""
    server.track()
    process = server.process
    pgid = process.pid  # (start_new_session: the group is named after the server)
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    leftovers: list[psutil.Process] = []
    for pid in server.seen:
        try:
            proc = psutil.Process(pid)
            if proc.status() != psutil.STATUS_ZOMBIE:
                leftovers.append(proc)
        except psutil.NoSuchProcess:
            continue
    # the kernels exit on their own once the server has shut them down: give them a moment
    _gone, alive = psutil.wait_procs(leftovers, timeout=5)
    alive_pids = {proc.pid for proc in alive}
    alive += [proc for proc in _group_members(pgid) if proc.pid not in alive_pids]
    described = []
    for proc in alive:
        try:
            described.append(f"{proc.pid}: {' '.join(proc.cmdline())[:200]}")
            proc.kill()
        except psutil.Error:
            continue
    psutil.wait_procs(alive, timeout=5)
    return described
