"""The playground in a real browser against real gunicorn in demo mode."""

import base64

import pytest
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
    Select(driver.find_element(By.ID, "ratio")).select_by_value("1:1")
    Select(driver.find_element(By.ID, "tier")).select_by_value("1")
    count = driver.find_element(By.ID, "n")
    count.clear()
    count.send_keys("2")
    driver.find_element(By.ID, "generate-submit").click()

    sizes = wait(driver).until(final_images)
    assert sizes == [[1024, 1024], [1024, 1024]]
    captions = [c.text for c in driver.find_elements(By.CSS_SELECTOR, "#generate-results .meta")]
    assert all(c.startswith("1024×1024 · PNG") for c in captions), captions
    assert "2 images in" in driver.find_element(By.ID, "generate-summary").text
    downloads = driver.find_elements(By.CSS_SELECTOR, "#gallery a[download]")
    assert len(downloads) == 4  # thumbnail and link for each image
    assert all(a.get_attribute("href").startswith("blob:") for a in downloads)
    assert driver.find_element(By.ID, "generate-error").is_displayed() is False
    assert_no_secret_in_page(driver)


def test_a_wrong_token_shows_the_apis_error(page):
    driver = page("/")
    enter_token(driver, "not-the-right-token")
    driver.find_element(By.ID, "prompt").send_keys("a lighthouse")
    driver.find_element(By.ID, "generate-submit").click()
    error = driver.find_element(By.ID, "generate-error")
    wait(driver).until(lambda _: error.is_displayed())
    assert "Invalid gateway key." in error.text
    assert "HTTP 401" in error.text
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
    assert wait(driver).until(final_images) == [[1024, 1024]]


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


@pytest.mark.skipif(not has_edits_route(), reason="needs POST /v1/images/edits (issue 9)")
def test_draw_a_mask_and_edit(page, tmp_path):
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
