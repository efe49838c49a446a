"""``make lab``: JupyterLab on notebooks/ with the project's kernel and store, as the
Makefile starts it (its recipe, run here with a port and a token of the test's own)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO

pytest.importorskip("jupyterlab", reason="pip install -e '.[notebooks]'")
TOKEN = "bench-test-token"


def _recipe() -> str:
    """The lab target's command line from the Makefile, its variables filled in."""
    text = (REPO / "Makefile").read_text()
    match = re.search(r"^lab:.*\n\t(.+)$", text, re.M)
    assert match, "the Makefile has no lab target"
    bin_dir = str(Path(sys.executable).parent)
    root = "--allow-root" if os.geteuid() == 0 else ""
    return (
        match.group(1)
        .replace("$(CURDIR)", str(REPO))
        .replace("$(BIN)", bin_dir)
        .replace("$(ROOT_FLAG)", root)
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_make_lab_serves_the_notebooks_with_the_projects_kernel_and_store():
    recipe = _recipe()
    assert "BENCH_HOME=" in recipe and "--notebook-dir=notebooks" in recipe
    assert f"{Path(sys.executable).parent}/jupyter lab" in recipe
    port = _free_port()
    command = (
        f"{recipe} --no-browser --port={port} --ServerApp.ip=127.0.0.1 "
        f"--IdentityProvider.token={TOKEN}"
    )
    lab = subprocess.Popen(
        command,
        shell=True,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"token {TOKEN}"}
    try:
        specs = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and lab.poll() is None:
            try:
                specs = httpx.get(f"{base}/api/kernelspecs", headers=headers, timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.5)
        assert specs is not None, lab.stderr.read() if lab.poll() is not None else "no answer"
        assert specs.status_code == 200
        python3 = specs.json()["kernelspecs"]["python3"]["spec"]
        # 'python' is the server's own interpreter, the project's: the recipe starts $(BIN)
        assert python3["argv"][0] in {"python", "python3", sys.executable}, python3
        assert python3["argv"][1:3] == ["-m", "ipykernel_launcher"], python3
        listing = httpx.get(f"{base}/api/contents", headers=headers, timeout=10).json()
        names = {item["name"] for item in listing["content"]}
        assert "10-ingest-results.ipynb" in names and "00-quickstart.ipynb" in names
        page = httpx.get(f"{base}/lab", headers=headers, timeout=10)
        assert page.status_code == 200 and "JupyterLab" in page.text
    finally:
        os.killpg(lab.pid, signal.SIGTERM)
        try:
            lab.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(lab.pid, signal.SIGKILL)
            lab.wait()
