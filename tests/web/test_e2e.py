"""End-to-end: the app served by uvicorn, driven in headless Chromium (Selenium + Debian's chromedriver).

Few and robust: explicit waits (WebDriverWait) on what the page shows, no sleeps, no timing
assertions. Screenshots are kept under build/screenshots/ for review. Skipped with the reason
when Chromium or its driver is not installed (``bash scripts/install_browser.sh``).
"""
from __future__ import annotations

import json
import urllib.request
from urllib.parse import parse_qsl, urlsplit

import pytest

from .conftest import FIRST_RECORD, XSS_ID, XSS_TITLE, browser_missing

pytestmark = pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing()))

WAIT = 30  # seconds: an upper bound for slow CI machines, not a timing assertion

if browser_missing() is None:
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import Select, WebDriverWait


def api(live, path: str):
    with urllib.request.urlopen(live.url + path, timeout=WAIT) as r:
        return json.loads(r.read())


def wait(driver):
    return WebDriverWait(driver, WAIT)


def load(driver, url: str, css: str = "h1"):
    driver.get(url)
    wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, css)))
    wait(driver).until(lambda d: d.execute_script("return document.readyState") == "complete")


def table_ids(driver) -> list[str]:
    return [a.get_attribute("href").rsplit("/", 1)[-1] for a in driver.find_elements(By.CSS_SELECTOR, "table.records a.record-link")]


def assert_clean_page(driver, live) -> None:
    """Every resource came from the app, the stylesheet and script were allowed by the CSP, and
    the console holds no error (a CSP violation or a failed request would be one)."""
    urls = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert urls, "the page loaded no stylesheet or script"
    assert all(u.startswith(live.url + "/") for u in urls), urls
    assert driver.execute_script("return !!document.querySelector('link[rel=stylesheet]').sheet.cssRules.length")
    header = driver.find_element(By.CSS_SELECTOR, ".site-header")
    assert header.value_of_css_property("background-color") == "rgba(31, 78, 140, 1)"  # style.css applied
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors


def test_filter_open_record_and_follow_a_source(browser, live_real, outside, screenshot):
    d = browser
    load(d, live_real.url + "/", "table.records")
    assert "Agreements" in d.title
    assert_clean_page(d, live_real)
    screenshot("front-desktop")

    # Filter by the country pair Pakistan + Russia with the form.
    Select(d.find_element(By.ID, "party-1")).select_by_visible_text("Pakistan")
    Select(d.find_element(By.ID, "party-2")).select_by_visible_text("Russia")
    d.find_element(By.CSS_SELECTOR, "#filters button[type=submit]").click()
    wait(d).until(EC.url_contains("party=RUS"))
    wait(d).until(EC.presence_of_element_located((By.CSS_SELECTOR, "table.records a.record-link")))
    # The filter state is the address (app.js leaves the empty fields out), ready to share.
    assert parse_qsl(urlsplit(d.current_url).query) == [("party", "PAK"), ("party", "RUS")]
    expected = [a["agreement_id"] for a in api(live_real, "/v1/agreements?party=PAK&party=RUS&sort=-signed_on")["items"]]
    assert table_ids(d) == expected
    assert FIRST_RECORD in table_ids(d)
    first = d.find_element(By.CSS_SELECTOR, f"table.records a.record-link[href$='/agreements/{FIRST_RECORD}']")
    assert first.text == "Defence and Military Cooperation Agreement"
    row = first.find_element(By.XPATH, "./ancestor::tr")
    assert "Pakistan" in row.text and "Russia" in row.text and "Mi-35" in row.text
    screenshot("filtered-pak-rus-desktop")

    # Open the record.
    first.click()
    wait(d).until(EC.url_to_be(f"{live_real.url}/agreements/{FIRST_RECORD}"))
    wait(d).until(EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Defence and Military Cooperation Agreement"))
    assert_clean_page(d, live_real)
    record = api(live_real, f"/v1/agreements/{FIRST_RECORD}")
    assert f"({FIRST_RECORD}). In: " in d.find_element(By.ID, "cite-line").text
    screenshot("record-desktop")

    # Its sources are links to the addresses the record gives.
    links = d.find_elements(By.CSS_SELECTOR, "ol.sources a.source-link")
    assert sorted(a.get_attribute("href") for a in links) == sorted(s["url"] for s in record["sources"] if s["url"])
    assert "noopener" in links[0].get_attribute("rel")

    # An equipment row's source reference leads to that source in the list.
    ref = d.find_element(By.CSS_SELECTOR, "table.equipment a.source-ref")
    target = urlsplit(ref.get_attribute("href")).fragment
    ref.click()
    wait(d).until(EC.url_contains("#" + target))
    assert d.execute_script("return document.querySelector(':target').id") == target

    # Follow the first source link's href: the browser goes to that address (here, the recording stub
    # that stands in for every other host, so the test needs no network).
    href = links[0].get_attribute("href")
    host = urlsplit(href).hostname
    d.get(href)
    wait(d).until(lambda _: any(host in line for line in outside.seen()))
    line = next(line for line in outside.seen() if host in line)
    # Plain http is fetched through the proxy as is; https (and http that Chromium upgrades to https)
    # is a CONNECT to the host.
    assert line.startswith((f"GET {href} ", f"CONNECT {host}:443 ")), line


def test_charts_render(browser, live_real):
    d = browser
    load(d, live_real.url + "/", "svg#chart-years")
    stats = api(live_real, "/v1/stats")
    years = d.find_element(By.ID, "chart-years")
    assert years.is_displayed() and years.size["width"] > 200 and years.size["height"] > 80
    marks = years.find_elements(By.CSS_SELECTOR, "rect.mark")
    assert marks and all(float(m.get_attribute("height")) > 0 for m in marks)
    # Every agreement with a year is in one segment (each segment's tooltip ends with its count).
    counted = sum(int(m.find_element(By.TAG_NAME, "title").get_attribute("textContent").rsplit(": ", 1)[1]) for m in marks)
    assert counted == sum(y["count"] for y in stats["by_year"])
    # The legend names the types that occur.
    legend = [li.text for li in d.find_elements(By.CSS_SELECTOR, "#chart-years-figure .legend li")]
    assert legend and "Procurement" in legend

    countries = d.find_element(By.ID, "chart-countries")
    assert countries.is_displayed() and countries.size["height"] > 100
    bars = countries.find_elements(By.CSS_SELECTOR, "a.bar-link")
    top = stats["by_country"][: len(bars)]
    assert [b.get_dom_attribute("href").rsplit("/", 1)[-1] for b in bars] == [c["iso3"] for c in top]
    assert all(b.find_element(By.CSS_SELECTOR, "rect").size["width"] > 0 for b in bars)


def test_page_through_results(browser, live_real):
    d = browser
    size = 50
    load(d, live_real.url + f"/?limit={size}", "table.records")
    everything = [a["agreement_id"] for a in api(live_real, "/v1/agreements?sort=-signed_on&limit=1000")["items"]]
    expected_pages = -(-len(everything) // size)
    assert expected_pages > 1, "the committed data should need more than one page"
    seen: list[str] = []
    pages = 0
    while True:
        ids = table_ids(d)
        assert 0 < len(ids) <= size
        seen += ids
        pages += 1
        nxt = d.find_elements(By.CSS_SELECTOR, "nav.pager a[rel=next]")
        if not nxt:
            break
        assert pages < expected_pages, "a next link after the last page"
        old = d.find_element(By.CSS_SELECTOR, "table.records")
        nxt[0].click()
        wait(d).until(EC.staleness_of(old))
        wait(d).until(EC.presence_of_element_located((By.CSS_SELECTOR, "table.records")))
        assert "cursor=" in d.current_url and f"page={pages + 1}" in d.current_url
        assert d.find_element(By.CSS_SELECTOR, "nav.pager a[rel=first]")
    assert seen == everything
    assert pages == expected_pages


def test_phone_width(browser, live_real, screenshot):
    d = browser
    d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True})
    try:
        for path, name in (("/", "front-phone"), (f"/agreements/{FIRST_RECORD}", "record-phone"), ("/countries/PAK", "country-phone")):
            load(d, live_real.url + path)
            assert d.execute_script("return window.innerWidth") == 390
            # Nothing is wider than the screen (tables become cards; wide tables scroll in their own box).
            assert d.execute_script("return document.documentElement.scrollWidth") <= 390
            screenshot(name)
        load(d, live_real.url + "/?party=PAK&party=RUS", "table.records")
        cell = d.find_element(By.CSS_SELECTOR, "table.records td[data-label=Parties]")
        assert cell.value_of_css_property("display") == "grid"   # a card with labelled values
    finally:
        d.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_country_page(browser, live_real, screenshot):
    d = browser
    load(d, live_real.url + "/countries/PAK", "svg#chart-timeline")
    assert d.find_element(By.TAG_NAME, "h1").text == "Pakistan"
    partners = [a.text for a in d.find_elements(By.CSS_SELECTOR, "table.partners td:first-child a")]
    assert "Russia" in partners
    assert FIRST_RECORD in table_ids(d)
    screenshot("country-desktop")


def test_script_in_a_title_shows_as_text(browser, live_xss, screenshot):
    d = browser
    load(d, f"{live_xss.url}/agreements/{XSS_ID}")
    assert d.find_element(By.TAG_NAME, "h1").text == XSS_TITLE
    with pytest.raises(NoAlertPresentException):
        d.switch_to.alert.text  # noqa: B018 - the injected alert() never ran
    scripts = d.execute_script("return [...document.scripts].map(s => s.src)")
    assert len(scripts) == 1 and "/static/app.js" in scripts[0]
    assert d.execute_script("return document.querySelectorAll('svg[onload], img[onerror], b, i').length") == 0
    hrefs = [a.get_attribute("href") for a in d.find_elements(By.TAG_NAME, "a")]
    assert not [h for h in hrefs if h and h.lower().startswith("javascript:")]
    screenshot("record-escaped-desktop")
    load(d, live_xss.url + "/", "table.records")
    assert XSS_TITLE in [a.text for a in d.find_elements(By.CSS_SELECTOR, "table.records a.record-link")]
    with pytest.raises(NoAlertPresentException):
        d.switch_to.alert.text  # noqa: B018


def test_works_without_javascript(browser_without_js, live_real):
    d = browser_without_js
    load(d, live_real.url + "/", "table.records")
    Select(d.find_element(By.ID, "party-1")).select_by_value("PAK")
    Select(d.find_element(By.ID, "party-2")).select_by_value("RUS")
    d.find_element(By.CSS_SELECTOR, "#filters button[type=submit]").click()
    wait(d).until(EC.url_contains("party=RUS"))
    wait(d).until(EC.presence_of_element_located((By.CSS_SELECTOR, f"a.record-link[href$='/agreements/{FIRST_RECORD}']")))
    # The form sent its empty fields; the server answered with the clean address of the view.
    assert parse_qsl(urlsplit(d.current_url).query) == [("party", "PAK"), ("party", "RUS")]
    d.find_element(By.CSS_SELECTOR, f"a.record-link[href$='/agreements/{FIRST_RECORD}']").click()
    wait(d).until(EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Defence and Military Cooperation Agreement"))
    assert d.find_elements(By.CSS_SELECTOR, "ol.sources a.source-link")
