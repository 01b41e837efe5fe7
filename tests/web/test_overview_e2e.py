"""The overview in headless Chromium: the world map, the partner networks, pair pages, screenshots
at desktop and phone widths, no request leaving the origin (the browser's performance log), and
the same pages with JavaScript off. Skipped with the reason when Chromium is missing."""
from __future__ import annotations

import pytest

from api.web import geo

from .conftest import FIRST_RECORD, browser_missing, requests_made
from .test_e2e import api, load, wait

pytestmark = pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing()))
needs_geometry = pytest.mark.skipif(geo.shapes() is None, reason="api/web/geo/world.json is missing: run make install")

if browser_missing() is None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC

PAGES = [("/", "overview"), ("/countries", "countries"), ("/countries/PAK", "country-network"),
         ("/countries/PAK/RUS", "pair"), ("/codebook", "codebook"), ("/cite", "cite")]


def assert_same_origin(driver, live) -> None:
    urls = requests_made(driver)
    assert urls, "the performance log recorded no request"
    # The browser's own chrome:// pages are not requests that leave the machine; any network scheme is.
    network = [u for u in urls if u.split(":", 1)[0].lower() in ("http", "https", "ws", "wss", "ftp")]
    assert network
    outside = [u for u in network if not u.startswith(live.url + "/")]
    assert not outside, outside


@needs_geometry
def test_the_map_has_one_shape_per_state_and_its_links_work(browser, live_real):
    d = browser
    requests_made(d)   # drain what earlier tests left in the log
    load(d, live_real.url + "/", "svg#map")
    assert_same_origin(d, live_real)
    svg = d.find_element(By.ID, "map")
    assert svg.is_displayed() and svg.size["width"] > 500
    by_country = {c["key"] if "key" in c else c["iso3"]: c["count"] for c in api(live_real, "/v1/stats")["by_country"]}
    links = svg.find_elements(By.CSS_SELECTOR, "a.state-link")
    codes = [a.get_dom_attribute("data-iso3") for a in links]
    assert len(codes) == len(set(codes)) and set(codes) <= set(by_country)
    assert len(codes) >= len(by_country) - 2   # all but states missing from Natural Earth
    for a in links:
        shapes = a.find_elements(By.CSS_SELECTOR, "path, circle")
        assert len(shapes) == 1
        box = d.execute_script("const b = arguments[0].getBBox(); return [b.width, b.height]", shapes[0])
        assert box[0] > 0 and box[1] > 0
    # Clicking a state opens its country page.
    usa = svg.find_element(By.CSS_SELECTOR, "a.state-link[data-iso3=USA] path")
    usa.click()
    wait(d).until(EC.url_to_be(f"{live_real.url}/countries/USA"))
    wait(d).until(EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), "United States"))


def test_the_network_of_a_country_shows_its_partners_and_leads_to_the_pair(browser, live_real):
    d = browser
    load(d, live_real.url + "/countries/PAK", "svg#network")
    partners = {p["iso3"] for p in api(live_real, "/v1/countries/PAK")["partners"]}
    svg = d.find_element(By.ID, "network")
    assert svg.is_displayed()
    nodes = {a.get_dom_attribute("data-iso3") for a in svg.find_elements(By.CSS_SELECTOR, "a.node-link")}
    assert nodes == partners | {"PAK"}
    labels = [t.text for t in svg.find_elements(By.CSS_SELECTOR, "text.node-label")]
    assert "Russia" in labels
    edge = svg.find_element(By.CSS_SELECTOR, "line.edge[data-pair='PAK-RUS']")
    assert float(edge.get_dom_attribute("stroke-width")) > 1
    link = edge.find_element(By.XPATH, "..")
    d.get(link.get_dom_attribute("href") if link.get_dom_attribute("href").startswith("http")
          else live_real.url + link.get_dom_attribute("href"))
    wait(d).until(EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Pakistan and Russia"))
    expected = [a["agreement_id"] for a in api(live_real, "/v1/agreements?party=PAK&party=RUS&sort=signed_on")["items"]]
    listed = [a.get_attribute("href").rsplit("/", 1)[-1]
              for a in d.find_elements(By.CSS_SELECTOR, "ol.pair-agreements a.record-link")]
    assert listed == expected and FIRST_RECORD in listed
    assert d.find_element(By.ID, "pair-timeline").is_displayed()


def test_the_home_network_lists_top_pairs(browser, live_real):
    d = browser
    load(d, live_real.url + "/", "svg#network")
    edges = d.find_elements(By.CSS_SELECTOR, "svg#network line.edge")
    assert len(edges) > 5
    top = d.find_elements(By.CSS_SELECTOR, "ol.pairs a")
    assert top
    top[0].click()
    wait(d).until(EC.presence_of_element_located((By.CSS_SELECTOR, "ol.pair-agreements a.record-link")))


@pytest.mark.parametrize("width,suffix", [(1280, "desktop"), (390, "phone")])
def test_screenshots_and_nothing_from_elsewhere(browser, live_real, screenshot, width, suffix):
    d = browser
    d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                      {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 500})
    try:
        for path, name in PAGES:
            requests_made(d)
            load(d, live_real.url + path)
            assert_same_origin(d, live_real)
            errors = [e for e in d.get_log("browser") if e["level"] == "SEVERE"]
            assert not errors, (path, errors)
            # Nothing is wider than the screen: charts scale down, wide tables scroll in their own box.
            assert d.execute_script("return document.documentElement.scrollWidth") <= width, path
            shot = screenshot(f"{name}-{suffix}")
            assert shot.stat().st_size > 5000
    finally:
        d.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


@needs_geometry
def test_the_overview_works_without_javascript(browser_without_js, live_real):
    d = browser_without_js
    requests_made(d)
    load(d, live_real.url + "/?party=PAK", "svg#map")
    assert_same_origin(d, live_real)
    linked = {a.get_dom_attribute("data-iso3") for a in d.find_elements(By.CSS_SELECTOR, "svg#map a.state-link")}
    partners = {p["iso3"] for p in api(live_real, "/v1/countries/PAK")["partners"]}
    assert linked == partners | {"PAK"}
    d.find_element(By.CSS_SELECTOR, "svg#map a.state-link[data-iso3=PAK] path").click()
    wait(d).until(EC.url_to_be(f"{live_real.url}/countries/PAK"))
    load(d, live_real.url + "/countries?sort=-agreements", "table.countries")
    first = d.find_element(By.CSS_SELECTOR, "table.countries tbody tr td a")
    top = max(api(live_real, "/v1/countries?has_agreements=true&limit=1000")["items"], key=lambda c: c["agreement_count"])
    assert first.text == top["name"]
    load(d, live_real.url + "/countries/PAK/RUS", "ol.pair-agreements")
    assert d.find_elements(By.CSS_SELECTOR, "svg#pair-timeline a.lane-link")
