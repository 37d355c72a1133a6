"""Python clients that are too heavy for the test extra (LangChain pulls in numpy,
SQLAlchemy and more), each in a virtual environment of its own under .cache/, made once
from PyPI and driven as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LANGCHAIN_VENV = ROOT / ".cache" / "langchain-venv"
LANGCHAIN = ("langchain-community==0.4.2", "openai>=1.40")


def langchain_python() -> Path:
    python = LANGCHAIN_VENV / "bin" / "python"
    ready = LANGCHAIN_VENV / ".installed"
    if not ready.exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(LANGCHAIN_VENV)],
                       check=True, timeout=120)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *LANGCHAIN],
                       check=True, timeout=600, stdin=subprocess.DEVNULL)
        ready.touch()
    return python


def langchain_dalle_url(base_url: str, token: str, prompt: str) -> str:
    """What LangChain's ``DallEAPIWrapper().run(prompt)`` returns against ``base_url``
    (its defaults: model dall-e-2, no response_format; it reads ``data[0].url``)."""
    script = textwrap.dedent("""
        import json, os, warnings
        warnings.simplefilter("ignore")
        from langchain_community.utilities.dalle_image_generator import DallEAPIWrapper
        wrapper = DallEAPIWrapper(api_key=os.environ["TOKEN"], base_url=os.environ["BASE"])
        print(json.dumps({"url": wrapper.run(os.environ["PROMPT"])}))
    """)
    done = subprocess.run([str(langchain_python()), "-c", script], capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL,
                          env={"PATH": os.environ["PATH"], "TOKEN": token, "BASE": base_url,
                               "PROMPT": prompt})
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])["url"]
