"""The operators' dashboard in a real browser against real gunicorn in demo mode."""

import re

import requests
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from app.redaction import mask
from tests.browser.conftest import ADMIN, KEYS, SECRETS, TOKEN


def wait(driver, seconds=15):
    """The page redraws its tables on every poll (5 s): an element found just before a
    redraw goes stale, so a wait looks again instead of failing."""
    return WebDriverWait(driver, seconds, ignored_exceptions=[StaleElementReferenceException])


def table(driver, body_id):
    """A table body's rows as the page shows them now, every cell's text, read in one go."""
    return driver.execute_script(
        "return [...document.querySelectorAll('#' + arguments[0] + ' tr')].map(tr =>"
        " [...tr.querySelectorAll('td')].map(td => td.innerText.trim()))", body_id)


def first_row(driver):
    return (table(driver, "keys-body") or [[]])[0]


def click(driver, css):
    wait(driver).until(lambda d: d.find_element(By.CSS_SELECTOR, css).click() or True)


def open_dashboard(page, token):
    driver = page("/admin")
    driver.find_element(By.ID, "admin-token").send_keys(token)
    driver.find_element(By.CSS_SELECTOR, "#admin-token-form button[type=submit]").click()
    return driver


def test_shows_every_key_masked_and_the_traffic(page, gateway):
    for _ in range(3):
        requests.post(gateway.url + "/v1/images/generations", timeout=10,
                      headers={"Authorization": f"Bearer {TOKEN}"},
                      json={"prompt": "traffic", "size": "64x64"}).raise_for_status()
    driver = open_dashboard(page, ADMIN)
    rows = wait(driver).until(lambda d: len(table(d, "keys-body")) == len(KEYS)
                              and table(d, "keys-body")[0][0].startswith("…")
                              and table(d, "keys-body"))
    assert [row[0] for row in rows] == [mask(key) for key in KEYS]
    assert [row[1] for row in rows] == ["active"] * len(KEYS)
    images = wait(driver).until(
        lambda d: d.find_element(By.ID, "stat-images").text not in ("", "–")
        and d.find_element(By.ID, "stat-images").text)
    assert int(images) >= 3
    assert "200 ×" in driver.find_element(By.ID, "error-mix").text
    html, url = driver.page_source, driver.current_url
    for secret in SECRETS:
        assert secret not in html and secret not in url


def test_a_wrong_admin_token_shows_the_apis_error(page, gateway):
    said = requests.get(gateway.url + "/admin/keys", timeout=10,
                        headers={"Authorization": "Bearer not-the-admin-token-000"})
    assert said.status_code == 401
    driver = open_dashboard(page, "not-the-admin-token-000")
    error = driver.find_element(By.ID, "admin-error")
    WebDriverWait(driver, 15).until(lambda _: error.is_displayed())
    assert error.text.splitlines() == [said.json()["error"]["message"],
                                       "HTTP 401 · invalid_api_key"]
    assert driver.find_elements(By.CSS_SELECTOR, "#keys-body td.key") == []
    assert driver.execute_script("return sessionStorage.length") == 0


def test_disable_and_enable_a_key_from_the_page(page, gateway):
    driver = open_dashboard(page, ADMIN)
    assert wait(driver).until(lambda d: first_row(d)[-1:] == ["Disable"])
    click(driver, "#keys-body tr:first-child button")
    # The state cell: the state, then the reason Gemini or the admin gave.
    wait(driver).until(lambda d: first_row(d)[1].startswith("out of rotation\n")
                       and first_row(d)[-1] == "Enable")
    admin = {"Authorization": f"Bearer {ADMIN}"}
    keys = requests.get(gateway.url + "/admin/keys", headers=admin, timeout=10).json()["data"]
    assert keys[0]["state"] == "out_of_rotation"  # the gateway, not just the page
    click(driver, "#keys-body tr:first-child button")
    wait(driver).until(lambda d: first_row(d)[1] == "active")
    keys = requests.get(gateway.url + "/admin/keys", headers=admin, timeout=10).json()["data"]
    assert keys[0]["state"] == "active"
    assert driver.find_element(By.ID, "admin-error").is_displayed() is False


def test_the_pages_break_none_of_their_own_csp_rules(page):
    """Chromium reports every script, style or image the policy refused in its console."""
    for path in ("/", "/admin"):
        driver = page(path)
        WebDriverWait(driver, 10).until(
            lambda d: d.execute_script("return document.readyState") == "complete")
        assert driver.find_elements(By.CSS_SELECTOR, "main .card")  # the page drew
        refused = [entry["message"] for entry in driver.get_log("browser")
                   if "Content Security Policy" in entry["message"]]
        assert refused == []


# /admin/keys, /admin/stats and /admin/usage as a gateway with troubled keys and shared
# state would answer them; a route missing from the map answers 404.
TROUBLED_KEYS_STUB = """
    const soon = new Date(Date.now() + 95000).toISOString();
    const routes = {
      '/admin/keys': {object: 'list', worker_pid: 7, scope: 'deployment', data: [
        {key: '…aaaa', state: 'cooling', cooling_until: soon, reason: null, requests: 9,
         successes: 5, failures: {rate_limited: 4}, last_error: '429 quota exceeded',
         last_success_at: null},
        {key: '…bbbb', state: 'out_of_rotation', cooling_until: null,
         reason: 'API_KEY_INVALID', requests: 1, successes: 0, failures: {key_rejected: 1},
         last_error: 'API_KEY_INVALID', last_success_at: null}]},
      '/admin/stats': {object: 'gateway.stats', requests: [], latency: [], upstream: [],
                       images: 0, tokens: {input: 0, output: 0}},
      '/admin/usage': {scope: 'deployment',
        clients: {'…wxyz': {requests: 4, images: 6, input_tokens: 40, output_tokens: 6720,
                            total_tokens: 6760}},
        keys: {'…aaaa': {requests: 4, images: 6, input_tokens: 40, output_tokens: 6720,
                         total_tokens: 6760}}},
    };
    if (!arguments[0]) delete routes['/admin/usage'];
    window.posted = [];
    window.fetch = async (url, init) => {
      if (init && init.method === 'POST') {
        window.posted.push(url);
        return new Response(JSON.stringify(routes['/admin/keys'].data[1]), {status: 200});
      }
      const body = routes[url];
      return new Response(JSON.stringify(body || {error: {message: 'Unknown path.',
                                                          type: 'invalid_request_error',
                                                          param: null, code: 'not_found'}}),
                          {status: body ? 200 : 404,
                           headers: {'Content-Type': 'application/json'}});
    };
"""


def open_stubbed(page, with_usage):
    driver = page("/admin")
    driver.execute_script(TROUBLED_KEYS_STUB, with_usage)
    driver.find_element(By.ID, "admin-token").send_keys("any-token-the-stub-accepts")
    driver.find_element(By.CSS_SELECTOR, "#admin-token-form button[type=submit]").click()
    wait(driver).until(lambda d: len(table(d, "keys-body")) == 2
                       and table(d, "keys-body")[0][0] == "…aaaa")
    return driver


def test_cooling_and_rejected_keys_show_countdown_reason_and_enable(page):
    driver = open_stubbed(page, with_usage=False)
    cooling, rejected = table(driver, "keys-body")
    state, countdown = cooling[1].splitlines()
    assert state == "cooling"
    assert re.fullmatch(r"1 min (2[0-9]|3[0-5]) s left", countdown), countdown
    assert "429 quota exceeded" in cooling and cooling[-1] == "Enable"
    assert rejected[1].splitlines() == ["out of rotation", "API_KEY_INVALID"]
    assert "whole deployment" in driver.find_element(By.ID, "keys-note").text
    # No /admin/usage on this gateway: no usage section, no usage column.
    assert not driver.find_element(By.ID, "usage-section").is_displayed()
    assert not driver.find_element(By.CSS_SELECTOR, "th.usage-col").is_displayed()
    assert driver.find_element(By.ID, "admin-error").is_displayed() is False
    click(driver, "#keys-body tr:nth-child(2) button")
    wait(driver).until(lambda d: d.execute_script("return window.posted.length"))
    assert driver.execute_script("return window.posted") == [
        "/admin/keys/%E2%80%A6bbbb/enable"]


def test_usage_by_client_and_by_key_when_the_gateway_counts_it(page):
    driver = open_stubbed(page, with_usage=True)
    wait(driver).until(lambda d: d.find_element(By.ID, "usage-section").is_displayed())
    assert table(driver, "usage-body") == [["…wxyz", "4", "6", "6,760"]]
    assert table(driver, "keys-body")[0][7] == "6 img · 6,760 tok"  # the usage column


def test_latency_quantiles_are_prometheus_histogram_quantile(page):
    """p50/p95 from cumulative buckets, interpolated inside the bucket the rank falls in,
    as histogram_quantile() does; the +Inf bucket answers the highest finite bound."""
    driver = page("/admin")
    buckets = {"0.5": 2, "1": 6, "2.5": 9, "+Inf": 10}
    got = driver.execute_script(
        "const b = arguments[0], q = GatewayTraffic.quantile;"
        "return [q(0.5, b), q(0.9, b), q(0.95, b), q(0.1, b), q(0.5, {'+Inf': 0})];", buckets)
    assert got == [0.875, 2.5, 2.5, 0.25, None]


def reading(n):
    """/admin/stats after n image requests (and one 429), with the pages' own traffic."""
    return {
        "requests": [{"route": "/v1/images/generations", "method": "POST", "status": "200",
                      "count": n},
                     {"route": "/v1/images/generations", "method": "POST", "status": "429",
                      "count": 1},
                     {"route": "/admin/stats", "method": "GET", "status": "200", "count": 50},
                     {"route": "/", "method": "GET", "status": "200", "count": 7}],
        "latency": [{"route": "/v1/images/generations", "buckets": [[1, n], ["+Inf", n + 1]],
                     "count": n + 1, "sum": 1.0},
                    {"route": "/admin/stats", "buckets": [[1, 50], ["+Inf", 50]],
                     "count": 50, "sum": 0.1}],
        "images": 2 * n, "tokens": {"input": n, "output": 10 * n}}


def test_traffic_counts_the_api_only_and_subtracts_readings(page):
    driver = page("/admin")
    got = driver.execute_script(
        "const t = GatewayTraffic; const a = t.totals(arguments[0]), b = t.totals(arguments[1]);"
        "return [a, t.minus(b, a)];", reading(4), reading(10))
    first, delta = got
    assert first["requests"] == 5 and first["byStatus"] == {"200": 4, "429": 1}
    assert first["buckets"] == {"1": 4, "+Inf": 5}  # the dashboard's own polls left out
    assert delta["requests"] == 6 and delta["byStatus"] == {"200": 6, "429": 0}
    assert delta["images"] == 12 and delta["tokensIn"] == 6 and delta["tokensOut"] == 60
