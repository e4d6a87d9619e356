"""Swagger UI and ReDoc in a real headless Chromium (Debian's, through its chromedriver):
both render the API from files the web serves itself, and an authorised "Try it out" of
``POST /api/documents/`` answers 202. The screenshot is kept under .state/screenshots/."""

import json
from urllib.parse import urlsplit

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import WebDriverWait

from dev.stack import http_json
from dev.system import STATE

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SCREENSHOT = STATE / "screenshots" / "swagger-ui.png"
#: The three API endpoints, and the health check.
PATHS = {"/api/documents/", "/api/documents/{id}/", "/api/jobs/{id}/", "/api/health/"}


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    profile = tmp_path_factory.mktemp("chromium")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    quiet = ["--disable-background-networking", "--disable-component-update", "--disable-sync"]
    window = [f"--user-data-dir={profile}", "--window-size=1280,1500", "--no-first-run"]
    for argument in ["--headless", "--no-sandbox", "--disable-gpu", *quiet, *window]:
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def wait(driver, seconds=30):
    return WebDriverWait(driver, seconds)


def loaded_from(driver):
    """Every host the page fetched from (a CDN would show), less what its CSP refused."""
    entries = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    refused = set(driver.execute_script("return window.refusedByPolicy || []"))
    hosts = {urlsplit(url).netloc for url in entries if url not in refused}
    return hosts | {urlsplit(driver.current_url).netloc}


def record_refusals(driver):
    """Collect, from the first script on, what the Content-Security-Policy refuses."""
    driver.execute_cdp_cmd(
        "Page.addScriptToEvaluateOnNewDocument",
        {
            "source": "window.refusedByPolicy = [];"
            "document.addEventListener('securitypolicyviolation',"
            " e => window.refusedByPolicy.push(e.blockedURI));"
        },
    )


def authorization_value(stack, token):
    """What to type under "Authorize": the scheme the schema declares, with the token."""
    _, _, schema = http_json("GET", f"{stack.base_url}/api/schema/?format=json")
    [scheme] = schema["components"]["securitySchemes"].values()
    if scheme["type"] == "http":  # bearer: Swagger UI adds the prefix itself
        return token
    return f"Token {token}"


def test_swagger_ui_renders_the_api_and_try_it_out_answers_202(stack, token, browser):
    browser.get(f"{stack.base_url}/api/docs/")
    wait(browser).until(ready.presence_of_element_located((By.CSS_SELECTOR, ".opblock")))
    shown = {
        element.get_attribute("data-path")
        for element in browser.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")
    }
    assert shown == PATHS
    assert loaded_from(browser) == {f"127.0.0.1:{stack.web_port}"}

    # Authorize with the token, as a user would.
    browser.find_element(By.CSS_SELECTOR, ".btn.authorize").click()
    field = wait(browser).until(
        ready.visibility_of_element_located((By.CSS_SELECTOR, ".auth-container input"))
    )
    field.send_keys(authorization_value(stack, token))
    browser.find_element(By.CSS_SELECTOR, ".auth-btn-wrapper .btn.authorize").click()
    browser.find_element(By.CSS_SELECTOR, ".auth-btn-wrapper .btn-done").click()

    # POST /api/documents/: open it, "Try it out", a body, "Execute".
    post = browser.find_element(
        By.XPATH,
        "//div[contains(@class,'opblock-post')]"
        "[.//*[contains(@class,'opblock-summary-path') and @data-path='/api/documents/']]",
    )
    post.find_element(By.CSS_SELECTOR, ".opblock-summary").click()
    wait(browser).until(lambda _: post.find_elements(By.CSS_SELECTOR, ".try-out__btn"))
    post.find_element(By.CSS_SELECTOR, ".try-out__btn").click()
    body = wait(browser).until(lambda _: post.find_element(By.CSS_SELECTOR, "textarea"))
    title = "Sent from Swagger UI"
    body.send_keys(Keys.CONTROL, "a")
    body.send_keys(Keys.DELETE)
    body.send_keys(json.dumps({"title": title, "text": "Chromium pressed Execute. It worked."}))
    post.find_element(By.CSS_SELECTOR, ".btn.execute").click()
    status = wait(browser).until(
        lambda _: post.find_element(
            By.CSS_SELECTOR, ".live-responses-table .response .response-col_status"
        )
    )
    assert status.text.strip().startswith("202"), status.text
    answer = post.find_element(By.CSS_SELECTOR, ".live-responses-table .microlight").text
    job_id = json.loads(answer)["id"]
    [[stored_title]] = stack.sql(
        "SELECT d.title FROM common_document d JOIN common_summaryjob j "
        f"ON j.document_id = d.id WHERE j.id = '{job_id}'"
    )
    assert stored_title == title

    browser.execute_script("arguments[0].scrollIntoView()", post)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(SCREENSHOT))


def test_redoc_renders_the_api_from_local_files(stack, browser):
    record_refusals(browser)
    browser.get(f"{stack.base_url}/api/redoc/")
    wait(browser).until(lambda driver: "duet API" in driver.find_element(By.TAG_NAME, "body").text)
    text = browser.find_element(By.TAG_NAME, "body").text
    for path in PATHS:
        assert path in text
    assert loaded_from(browser) == {f"127.0.0.1:{stack.web_port}"}
    # The one remote file the ReDoc bundle names (its logo) was refused, never fetched.
    refused = browser.execute_script("return window.refusedByPolicy")
    assert {urlsplit(url).netloc for url in refused} <= {"cdn.redoc.ly"}
