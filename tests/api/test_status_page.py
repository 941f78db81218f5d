"""The status page, used as a person would: in headless Chromium against a live server."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import Api, Council, LiveServer


def test_serve_answers_health_and_lists_the_api(live_server: LiveServer) -> None:
    """`carealloc serve` answers /health, publishes its OpenAPI description and ranks offers
    with the optimisation core."""
    assert httpx.get(f"{live_server.url}/health").json()["status"] == "ok"
    spec = httpx.get(f"{live_server.url}/openapi.json").json()
    assert "/v1/placements" in spec["paths"]
    offers = httpx.post(
        f"{live_server.url}/v1/referrals/R-001/offers",
        headers=live_server.council.broker,
        timeout=60,
    )
    assert offers.status_code == 200, offers.text
    best = offers.json()["offers"][0]
    assert (best["provider_id"], best["feasible"]) == ("argyll-homecare", True)


def test_the_page_is_self_contained(api: Api) -> None:
    """The page and its script load nothing from other sites, and forbid it by policy."""
    page = api.client.get("/status")
    assert page.status_code == 200
    assert "default-src 'self'" in page.headers["content-security-policy"]
    script = api.client.get("/static/status.js").text
    for text in (page.text, script):
        assert "http://" not in text.replace("http://www.w3.org/2000/svg", "")
        assert "https://" not in text


def test_the_overview_has_what_the_page_draws(api: Api, council: Council) -> None:
    """Waiting hours per lot, providers, and placed and waiting clients with [lon, lat]."""
    overview = api.client.get("/v1/status/overview", headers=council.broker).json()
    assert {lot["id"]: lot["waiting_hours"] for lot in overview["lots"]} == {
        "kintyre": 5.25,
        "mid-argyll": 17.5,
    }
    assert overview["waiting_hours"] == 22.75
    assert [d["package_id"] for d in overview["placed"]] == ["P-001", "P-002"]
    assert overview["placed"][0]["provider_name"] == "Argyll Homecare"
    assert overview["waiting"][0]["location"] == [-5.43206, 56.03796]
    provider = api.provider_key(council, "kintyre-care")
    assert api.client.get("/v1/status/overview", headers=provider).status_code == 403


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[object]:
    """Debian's headless Chromium through chromedriver (skipped where not installed)."""
    chromium = shutil.which("chromium")
    driver = shutil.which("chromedriver")
    if chromium is None or driver is None:
        pytest.skip(
            "Debian's chromium and chromium-driver are not installed "
            "(apt-get install chromium chromium-driver)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = chromium
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1200,1400",
    ):
        options.add_argument(flag)
    chrome = webdriver.Chrome(options=options, service=Service(executable_path=driver))
    try:
        yield chrome
    finally:
        chrome.quit()


@pytest.mark.browser
def test_a_broker_sees_waiting_hours_and_the_map(
    live_server: LiveServer, browser: object, tmp_path: Path
) -> None:
    """Type the key, press Show: the table lists hours waiting by lot and the map draws
    both lots, the placed clients and the waiting referrals."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    assert isinstance(browser, WebDriver)
    browser.get(f"{live_server.url}/status")
    browser.find_element(By.ID, "key").send_keys("ca_000000000000_" + "x" * 43)
    browser.find_element(By.ID, "show").click()
    WebDriverWait(browser, 20).until(
        ec.text_to_be_present_in_element((By.ID, "message"), "not accepted")
    )
    key = browser.find_element(By.ID, "key")
    key.clear()
    key.send_keys(live_server.council.broker["X-API-Key"])
    browser.find_element(By.ID, "show").click()
    WebDriverWait(browser, 20).until(ec.visibility_of_element_located((By.ID, "content")))
    rows = [
        [cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
        for row in browser.find_elements(By.CSS_SELECTOR, "#waiting tbody tr")
    ]
    assert rows == [
        ["Mid Argyll", "1", "17.5", "Argyll Homecare"],
        ["Kintyre", "1", "5.3", "Kintyre Care at Home"],
    ]
    assert "2 packages waiting, 22.8 hours" in browser.find_element(By.ID, "summary").text
    assert len(browser.find_elements(By.CSS_SELECTOR, "#map path.lot")) == 2
    assert len(browser.find_elements(By.CSS_SELECTOR, "#map circle.placed")) == 2
    assert len(browser.find_elements(By.CSS_SELECTOR, "#map rect.waiting")) == 2
    legend = browser.find_element(By.ID, "legend").text
    assert "Argyll Homecare (Mid Argyll)" in legend
    browser.save_screenshot(str(tmp_path / "status.png"))
