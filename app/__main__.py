"""``python -m app``: serve the gateway with gunicorn, as ``make run`` does.

With no GEMINI_API_KEYS in the environment or in `.env` (and DEMO not set), it runs on
the built-in offline demo upstream so a fresh checkout answers at once.
"""

import os
import sys
from pathlib import Path

from dotenv import load_dotenv

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    os.chdir(PROJECT_ROOT)
    load_dotenv(PROJECT_ROOT / ".env", override=False)
    if not os.environ.get("GEMINI_API_KEYS", "").strip() and not os.environ.get("DEMO"):
        os.environ["DEMO"] = "true"
    command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "app:create_app()"]
    os.execv(sys.executable, command + sys.argv[1:])  # noqa: S606 - no shell, fixed argv


if __name__ == "__main__":
    main()
