"""The operators' dashboard in a real browser against real gunicorn in demo mode."""

import re

import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from app.redaction import mask
from tests.browser.conftest import ADMIN, KEYS, SECRETS, TOKEN


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
    WebDriverWait(driver, 15).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "#keys-body td.key")) == len(KEYS))
    shown = [cell.text for cell in driver.find_elements(By.CSS_SELECTOR, "#keys-body td.key")]
    assert shown == [mask(key) for key in KEYS]
    states = [cell.text for cell in driver.find_elements(By.CSS_SELECTOR, "#keys-body .state")]
    assert states == ["active"] * len(KEYS)
    images = driver.find_element(By.ID, "stat-images")
    WebDriverWait(driver, 15).until(lambda _: images.text not in ("", "–"))
    assert int(images.text) >= 3
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
    wait = WebDriverWait(driver, 15)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#keys-body td.key"))
    first = driver.find_element(By.CSS_SELECTOR, "#keys-body tr:first-child button")
    assert first.text == "Disable"
    first.click()
    wait.until(lambda d: d.find_element(By.ID, "admin-error").is_displayed()
               or d.find_element(By.CSS_SELECTOR, "#keys-body tr:first-child .state").text
               == "out of rotation")
    # Until POST /admin/keys/<key>/disable lands, the page shows the API's answer to it.
    if driver.find_element(By.ID, "admin-error").is_displayed():
        assert "HTTP 404" in driver.find_element(By.ID, "admin-error").text
        return
    driver.find_element(By.CSS_SELECTOR, "#keys-body tr:first-child button").click()
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#keys-body tr:first-child .state")
               .text == "active")


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
    WebDriverWait(driver, 15).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "#keys-body tr")) == 2)
    return driver


def test_cooling_and_rejected_keys_show_countdown_reason_and_enable(page):
    driver = open_stubbed(page, with_usage=False)
    cooling, rejected = driver.find_elements(By.CSS_SELECTOR, "#keys-body tr")
    countdown = cooling.find_element(By.CSS_SELECTOR, ".countdown").text
    assert re.fullmatch(r"1 min (2[0-9]|3[0-5]) s left", countdown), countdown
    assert "429 quota exceeded" in cooling.text and "Enable" in cooling.text
    assert "out of rotation" in rejected.text and "API_KEY_INVALID" in rejected.text
    assert "whole deployment" in driver.find_element(By.ID, "keys-note").text
    # No /admin/usage on this gateway: no usage section, no usage column.
    assert not driver.find_element(By.ID, "usage-section").is_displayed()
    assert not driver.find_element(By.CSS_SELECTOR, "th.usage-col").is_displayed()
    assert driver.find_element(By.ID, "admin-error").is_displayed() is False
    rejected.find_element(By.TAG_NAME, "button").click()
    WebDriverWait(driver, 15).until(lambda d: d.execute_script("return window.posted.length"))
    assert driver.execute_script("return window.posted") == [
        "/admin/keys/%E2%80%A6bbbb/enable"]


def test_usage_by_client_and_by_key_when_the_gateway_counts_it(page):
    driver = open_stubbed(page, with_usage=True)
    WebDriverWait(driver, 15).until(
        lambda d: d.find_element(By.ID, "usage-section").is_displayed())
    row = driver.find_element(By.CSS_SELECTOR, "#usage-body tr")
    assert [c.text for c in row.find_elements(By.TAG_NAME, "td")] == ["…wxyz", "4", "6",
                                                                      "6,760"]
    cooling = driver.find_element(By.CSS_SELECTOR, "#keys-body tr")
    assert cooling.find_element(By.CSS_SELECTOR, "td.usage-col").text == "6 img · 6,760 tok"
