"""The playground in a real browser against real gunicorn in demo mode."""

import base64

import pytest
import requests
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

from app.gemini.demo import demo_png
from tests.browser.conftest import SECRETS, TOKEN


def wait(driver, seconds=20):
    return WebDriverWait(driver, seconds)


def enter_token(driver, token):
    driver.find_element(By.ID, "token").send_keys(token)
    driver.find_element(By.CSS_SELECTOR, "#token-form button[type=submit]").click()


def final_images(driver):
    """The finished images' natural sizes, once every one of them has loaded."""
    return driver.execute_script(
        "const imgs = [...document.querySelectorAll('#generate-results img.final')];"
        "return imgs.every(i => i.complete && i.naturalWidth > 0)"
        "  ? imgs.map(i => [i.naturalWidth, i.naturalHeight]) : null;")


def assert_no_secret_in_page(driver):
    html, url = driver.page_source, driver.current_url
    for secret in SECRETS:
        assert secret not in html and secret not in url


def test_generates_two_images_of_the_chosen_size(page):
    driver = page("/")
    enter_token(driver, TOKEN)
    driver.find_element(By.ID, "prompt").send_keys("a lighthouse at dusk")
    Select(driver.find_element(By.ID, "ratio")).select_by_value("16:9")
    Select(driver.find_element(By.ID, "tier")).select_by_value("1K")
    assert driver.find_element(By.ID, "size-hint").text == "About 1408 × 768 px"
    count = driver.find_element(By.ID, "n")
    count.clear()
    count.send_keys("2")
    driver.find_element(By.ID, "generate-submit").click()

    sizes = wait(driver, 60).until(final_images)
    assert sizes == [[1408, 768], [1408, 768]]  # Gemini's 16:9 at 1K
    captions = [c.text for c in driver.find_elements(By.CSS_SELECTOR, "#generate-results .meta")]
    assert all(c.startswith("1408×768 · PNG") for c in captions), captions
    summary = driver.find_element(By.ID, "generate-summary").text
    assert "2 images in" in summary and " tokens (" in summary  # the answer's usage
    downloads = driver.find_elements(By.CSS_SELECTOR, "#gallery a[download]")
    assert len(downloads) == 4  # thumbnail and link for each image
    assert all(a.get_attribute("href").startswith("blob:") for a in downloads)
    assert driver.find_element(By.ID, "generate-error").is_displayed() is False
    assert_no_secret_in_page(driver)


def test_a_wrong_token_shows_the_apis_error(page, gateway):
    said = requests.post(gateway.url + "/v1/images/generations", json={"prompt": "x"},
                         headers={"Authorization": "Bearer not-the-right-token"}, timeout=10)
    assert said.status_code == 401
    driver = page("/")
    enter_token(driver, "not-the-right-token")
    driver.find_element(By.ID, "prompt").send_keys("a lighthouse")
    driver.find_element(By.ID, "generate-submit").click()
    error = driver.find_element(By.ID, "generate-error")
    wait(driver).until(lambda _: error.is_displayed())
    assert error.text.splitlines() == [said.json()["error"]["message"],
                                       "HTTP 401 · invalid_api_key"]
    assert driver.find_elements(By.CSS_SELECTOR, "#generate-results img.final") == []


def test_the_apis_validation_message_reaches_the_page(page):
    driver = page("/")
    enter_token(driver, TOKEN)
    driver.find_element(By.ID, "prompt").send_keys("x" * 10)
    driver.execute_script("document.getElementById('model').append(new Option('', ' '));"
                          "document.getElementById('model').value = ' ';")
    driver.find_element(By.ID, "generate-submit").click()
    error = driver.find_element(By.ID, "generate-error")
    wait(driver).until(lambda _: error.is_displayed())
    assert "'model' must be a non-empty string." in error.text


def test_the_keyboard_alone_generates(page):
    driver = page("/")
    enter_token(driver, TOKEN)
    prompt = driver.find_element(By.ID, "prompt")
    prompt.send_keys("keyboard only")
    ActionChains(driver).key_down(Keys.CONTROL).send_keys(Keys.ENTER).key_up(Keys.CONTROL).perform()
    assert wait(driver, 60).until(final_images) == [[1024, 1024]]


# An answer as the streaming gateway sends it: comments, split chunks, drafts, finals, [DONE].
STREAM_STUB = """
    const png = arguments[0];
    const event = (body) => 'data: ' + JSON.stringify(body) + '\\n\\n';
    const common = {created_at: 1, size: '1024x1024', quality: 'high', background: 'opaque',
                    output_format: 'png'};
    const usage = {input_tokens: 12, output_tokens: 1120, total_tokens: 1132,
                   input_tokens_details: {text_tokens: 12, image_tokens: 0}};
    window.gate = {};
    window.gate.done = new Promise((resolve) => { window.gate.release = resolve; });
    const partial = event({...common, type: 'image_generation.partial_image',
                           b64_json: png, partial_image_index: 0});
    const parts = [': keep-alive\\n\\n', partial.slice(0, 40), partial.slice(40)];
    window.fetch = async (url, init) => {
      window.sentBody = JSON.parse(init.body);
      const encoder = new TextEncoder();
      const body = new ReadableStream({async start(controller) {
        for (const part of parts) controller.enqueue(encoder.encode(part));
        await window.gate.done;  // the test looks at the draft, then lets the finals come
        for (let i = 0; i < 2; i++) {
          controller.enqueue(encoder.encode(event({...common, usage,
            type: 'image_generation.completed', b64_json: png})));
        }
        controller.enqueue(encoder.encode('data: [DONE]\\n\\n'));
        controller.close();
      }});
      return new Response(body, {status: 200, headers: {'Content-Type': 'text/event-stream'}});
    };
"""


def test_an_event_stream_shows_drafts_then_finals_with_usage(page):
    """What the page does with OpenAI's image events, before the gateway streams them."""
    driver = page("/")
    enter_token(driver, TOKEN)
    png = base64.b64encode(demo_png("stream", 1024, 1024)).decode()
    driver.execute_script(STREAM_STUB, png)
    driver.find_element(By.ID, "prompt").send_keys("a lighthouse")
    count = driver.find_element(By.ID, "n")
    count.clear()
    count.send_keys("2")
    driver.find_element(By.ID, "generate-submit").click()
    wait(driver).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#generate-results img.draft"))
    badges = [b.text for b in driver.find_elements(By.CSS_SELECTOR, "#generate-results .badge")]
    assert badges == ["Draft 1", "Waiting"]
    sent = driver.execute_script("return window.sentBody")
    assert sent["stream"] is True and sent["partial_images"] == 2 and sent["n"] == 2
    assert sent["aspect_ratio"] == "1:1" and sent["image_size"] == "1K" and "size" not in sent

    driver.execute_script("window.gate.release()")
    assert wait(driver).until(final_images) == [[1024, 1024], [1024, 1024]]
    captions = [c.text for c in driver.find_elements(By.CSS_SELECTOR, "#generate-results .meta")]
    assert all(c.startswith("1024×1024 · PNG") and c.endswith("1,132 tokens")
               for c in captions), captions
    summary = driver.find_element(By.ID, "generate-summary").text
    assert "2 images in" in summary and "2,264 tokens (24 in, 2,240 out)" in summary


def test_an_error_event_shows_the_apis_message(page):
    driver = page("/")
    enter_token(driver, TOKEN)
    driver.execute_script("""
        window.fetch = async () => new Response(
          ': keep-alive\\n\\ndata: {"type": "error", "error": {"message": "Gemini is busy",'
          + ' "type": "server_error", "param": null, "code": "bad_gateway"}}\\n\\n',
          {status: 200, headers: {'Content-Type': 'text/event-stream'}});""")
    driver.find_element(By.ID, "prompt").send_keys("a lighthouse")
    driver.find_element(By.ID, "generate-submit").click()
    error = driver.find_element(By.ID, "generate-error")
    wait(driver).until(lambda _: error.is_displayed())
    assert "Gemini is busy" in error.text and "bad_gateway" in error.text


def has_edits_route():
    from app import create_app

    app = create_app({"DEMO": "true"})
    return any(rule.rule == "/v1/images/edits" for rule in app.url_map.iter_rules())


def painted_mask(driver):
    """Paint a stroke across the middle of the image on the mask canvas."""
    canvas = driver.find_element(By.ID, "mask-paint")
    wait(driver).until(lambda _: canvas.is_displayed() and canvas.size["width"] > 0)
    ActionChains(driver).move_to_element_with_offset(canvas, -40, 0).click_and_hold() \
        .move_by_offset(80, 0).release().perform()


def choose_image(driver, tmp_path, width=320, height=240):
    picture = tmp_path / "input.png"
    picture.write_bytes(demo_png("an input", width, height))
    driver.find_element(By.CSS_SELECTOR, '[aria-controls="panel-edit"]').click()
    driver.find_element(By.ID, "edit-images").send_keys(str(picture))


def test_the_painted_mask_is_transparent_where_painted(page, tmp_path):
    """What the page sends as the mask, whatever the server does with it: a PNG of the first
    image's size, transparent (editable) under the brush and opaque elsewhere."""
    driver = page("/")
    enter_token(driver, TOKEN)
    choose_image(driver, tmp_path)
    painted_mask(driver)
    driver.find_element(By.ID, "edit-prompt").send_keys("add a boat")
    # Keep the request in the page: record the form fields the page sends.
    driver.execute_script("""
        window.sent = null;
        window.fetch = async (url, init) => {
          const fields = [];
          for (const [name, value] of init.body.entries()) {
            if (value instanceof Blob) {
              const bytes = new Uint8Array(await value.arrayBuffer());
              let text = ''; for (const b of bytes) text += String.fromCharCode(b);
              fields.push([name, btoa(text), value.type]);
            } else fields.push([name, value, null]);
          }
          window.sent = {url, fields};
          return new Response('{"error": {"message": "held by the test"}}',
                              {status: 400, headers: {'Content-Type': 'application/json'}});
        };""")
    driver.find_element(By.ID, "edit-submit").click()
    sent = wait(driver).until(lambda d: d.execute_script("return window.sent"))
    assert sent["url"] == "/v1/images/edits"
    fields = {name: (value, kind) for name, value, kind in sent["fields"]}
    assert fields["prompt"][0] == "add a boat" and fields["image"][1] == "image/png"
    assert fields["stream"][0] == "true"
    mask = base64.b64decode(fields["mask"][0])
    assert mask.startswith(b"\x89PNG")
    alphas = driver.execute_script("""
        const img = new Image(); img.src = 'data:image/png;base64,' + arguments[0];
        await img.decode();
        const c = document.createElement('canvas'); c.width = img.width; c.height = img.height;
        const ctx = c.getContext('2d'); ctx.drawImage(img, 0, 0);
        const at = (x, y) => ctx.getImageData(x, y, 1, 1).data[3];
        return [img.width, img.height, at(img.width / 2, img.height / 2), at(2, 2)];
    """, fields["mask"][0])
    assert alphas == [320, 240, 0, 255]
    assert "held by the test" in driver.find_element(By.ID, "edit-error").text


def test_draw_a_mask_and_edit(page, tmp_path):
    if not has_edits_route():  # asked at run time: building an app at collection would
        pytest.skip("needs POST /v1/images/edits (issue 9)")  # reconfigure logging early
    driver = page("/")
    enter_token(driver, TOKEN)
    choose_image(driver, tmp_path, 512, 512)
    painted_mask(driver)
    driver.find_element(By.ID, "edit-prompt").send_keys("add a small red boat")
    driver.find_element(By.ID, "edit-submit").click()
    after = "#edit-results img.final"
    wait(driver, 30).until(lambda d: d.execute_script(
        f"const i = document.querySelector('{after}'); return i && i.complete && i.naturalWidth"))
    before = driver.find_elements(By.CSS_SELECTOR, "#edit-results .pair img")
    assert len(before) == 2  # before and after, side by side
    assert driver.find_element(By.ID, "edit-error").is_displayed() is False
    assert_no_secret_in_page(driver)
