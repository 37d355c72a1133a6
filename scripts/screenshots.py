"""Refresh the README's screenshots: docs/screenshots/playground.png and dashboard.png.

Starts the gateway (real gunicorn) in demo mode on a loopback port, drives Debian's headless
Chromium through both pages, and writes the PNGs. Needs the test extra and
scripts/test-deps.sh:

    .venv/bin/python scripts/screenshots.py
"""

from __future__ import annotations

import base64
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

from tests.browser.chromium import chromium  # noqa: E402
from tests.integration.gateway_process import GatewayProcess  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
# Made-up values shaped like the real thing; the page shows keys masked (…a1b2).
KEYS = ("AIzaScreenshotKeyOne000000000a1b2", "AIzaScreenshotKeyTwo000000000c3d4",
        "AIzaScreenshotKeyThree0000000e5f6")
TOKEN = "screenshot-client-token"  # noqa: S105 (a demo gateway's throwaway token)
ADMIN = "screenshot-admin-token"
WIDTH = 1280


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        gateway = GatewayProcess({"DEMO": "true", "GEMINI_API_KEYS": ",".join(KEYS),
                                  "PROXY_AUTH_KEYS": TOKEN, "ADMIN_TOKEN": ADMIN},
                                 Path(scratch) / "gateway.log").start()
        try:
            with chromium(WIDTH, 900) as driver:
                playground(driver, gateway.url)
                traffic(gateway.url)
                dashboard(driver, gateway.url)
        finally:
            gateway.stop()


def playground(driver, url: str) -> None:
    driver.get(url + "/")
    driver.find_element(By.ID, "token").send_keys(TOKEN)
    driver.find_element(By.CSS_SELECTOR, "#token-form button[type=submit]").click()
    driver.find_element(By.ID, "prompt").send_keys(
        "A lighthouse on a cliff at dusk, warm window light, soft sea fog")
    Select(driver.find_element(By.ID, "ratio")).select_by_value("3:2")
    count = driver.find_element(By.ID, "n")
    count.clear()
    count.send_keys("3")
    driver.find_element(By.ID, "generate-submit").click()
    WebDriverWait(driver, 30).until(lambda d: d.execute_script(
        "const i = [...document.querySelectorAll('#generate-results img.final')];"
        "return i.length === 3 && i.every(x => x.complete && x.naturalWidth > 0);"))
    driver.execute_script("document.activeElement.blur()")
    capture(driver, "playground.png")


def traffic(url: str) -> None:
    """A little of everything for the dashboard to show: images, a 400 and a 401."""
    auth = {"Authorization": f"Bearer {TOKEN}"}
    for size in ("256x256", "512x512", "1024x1024", "512x768"):
        requests.post(url + "/v1/images/generations", headers=auth, timeout=30,
                      json={"prompt": "a quiet harbour", "size": size, "n": 2})
    requests.post(url + "/v1/images/generations", headers=auth, timeout=30, json={"n": 1})
    requests.get(url + "/v1/models", headers={"Authorization": "Bearer wrong"}, timeout=30)


def dashboard(driver, url: str) -> None:
    driver.get(url + "/admin")
    driver.find_element(By.ID, "admin-token").send_keys(ADMIN)
    driver.find_element(By.CSS_SELECTOR, "#admin-token-form button[type=submit]").click()
    WebDriverWait(driver, 15).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "#keys-body td.key")) == len(KEYS))
    # A few samples (one each 5 s) with traffic between them, so the rates and the chart
    # have something to say.
    auth = {"Authorization": f"Bearer {TOKEN}"}
    for burst in (3, 6, 2, 5):
        for _ in range(burst):
            requests.post(url + "/v1/images/generations", headers=auth, timeout=30,
                          json={"prompt": "one more", "size": "256x256"})
        time.sleep(5)
    WebDriverWait(driver, 15).until(
        lambda d: d.find_element(By.ID, "stat-rpm").text not in ("", "–"))
    driver.execute_script("document.activeElement.blur()")
    capture(driver, "dashboard.png")


def capture(driver, name: str) -> None:
    """The whole page, not just the window (Chromium's DevTools protocol)."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": WIDTH, "height": height, "scale": 1}})
    (OUT / name).write_bytes(base64.b64decode(shot["data"]))
    print(f"wrote {OUT / name}")


if __name__ == "__main__":
    main()
