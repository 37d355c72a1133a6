import pytest

from tests.browser.chromium import available, chromium
from tests.integration.gateway_process import GatewayProcess

pytestmark = pytest.mark.integration

KEYS = ("fake-BrowserKeyAlpha00000000000a1b2", "fake-BrowserKeyBravo00000000000c3d4",
        "fake-BrowserKeyCharlie000000000e5f6")
TOKEN = "browser-client-token-0123"
ADMIN = "browser-admin-token-456789"
SECRETS = (*KEYS, TOKEN, ADMIN)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    """Real gunicorn in demo mode (offline, real PNGs), with client and admin tokens."""
    log = tmp_path_factory.mktemp("gateway") / "gateway.log"
    process = GatewayProcess({"DEMO": "true", "GEMINI_API_KEYS": ",".join(KEYS),
                              "PROXY_AUTH_KEYS": TOKEN, "ADMIN_TOKEN": ADMIN,
                              "LOG_LEVEL": "debug"}, log).start()
    yield process
    process.stop()
    output = process.output()
    for secret in SECRETS:
        assert secret not in output, "a secret reached the server's output"
    assert "Traceback" not in output


@pytest.fixture(scope="module")
def browser():
    if not available():
        pytest.fail("Chromium is missing: run scripts/test-deps.sh (make test does)")
    with chromium() as driver:
        yield driver


@pytest.fixture
def page(browser, gateway):
    """A fresh tab state: sessionStorage emptied, so no token is carried between tests."""
    def open_page(path: str):
        browser.get(gateway.url + path)
        browser.execute_script("sessionStorage.clear()")
        browser.get(gateway.url + path)
        return browser
    return open_page
