"""The official openai Node SDK, installed once from the npm registry into a cache folder
of the project (not at import: only the tests that drive it pay for it)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache" / "node-openai"
SCRIPTS = Path(__file__).resolve().parent / "node"
VERSION = "7"  # the major the research read (7.59): what Node users run today


def node_sdk() -> Path:
    """The folder whose node_modules holds ``openai``; skips the test without node/npm."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are not installed")
    if not (CACHE / "node_modules" / "openai" / "package.json").exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        (CACHE / "package.json").write_text(json.dumps({"private": True}))
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent",
                        f"openai@{VERSION}"], cwd=CACHE, check=True, timeout=300,
                       capture_output=True)
    return CACHE


def node_lines(script: str, env: dict[str, str], timeout: float = 60) -> list[dict]:
    """Run ``tests/integration/node/<script>`` with the SDK; each stdout line is JSON."""
    folder = node_sdk()
    completed = subprocess.run(
        ["node", str(SCRIPTS / script)], cwd=folder, capture_output=True, text=True,
        timeout=timeout, env={**os.environ, "NODE_PATH": str(folder / "node_modules"), **env},
        stdin=subprocess.DEVNULL)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return [json.loads(line) for line in completed.stdout.strip().splitlines()]


def run_node(script: str, env: dict[str, str], timeout: float = 60) -> dict:
    """As ``node_lines``, for a script whose last line says everything."""
    return node_lines(script, env, timeout)[-1]
