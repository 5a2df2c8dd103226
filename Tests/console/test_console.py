"""The console in headless Chromium (WebDriver) against a live 3-node TLS cluster (Tests/console/run.sh).

Environment: VIGIL_BASE_PORT (node n answers HTTPS on base+100+n), VIGIL_CA, VIGIL_TOKEN (admin),
VIGIL_CONSOLE_SHOTS (screenshot folder). Every wait is bounded.
"""
import http.server
import json
import os
import subprocess
import threading
import time
import urllib.parse

import pytest
import requests
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

BASE = int(os.environ["VIGIL_BASE_PORT"])
CA = os.environ["VIGIL_CA"]
TOKEN = os.environ["VIGIL_TOKEN"]
SHOTS = os.environ.get("VIGIL_CONSOLE_SHOTS", "/tmp/vigil-console-shots")
ROUTING_KEY = "consoletestkey0123456789abcdefgh"
LEVEL_SECONDS = 8
PASSWORD = "correct horse battery"


def url(node, path=""):
    return f"https://127.0.0.1:{BASE + 100 + node}{path}"


def api(node, method, path, body=None, token=TOKEN, expect=(200, 201, 202)):
    response = requests.request(method, url(node, path), json=body, verify=CA, timeout=15,
                                headers={"Authorization": f"Bearer {token}"} if token else {})
    assert response.status_code in expect, f"{method} {path}: {response.status_code} {response.text}"
    return response


class Sink(http.server.ThreadingHTTPServer):
    """Records every page the cluster sends (webhook channel), by path."""

    def __init__(self):
        self.pages = []
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                sink.pages.append((time.time(), self.path, body.decode("utf-8", "replace")))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def paths(self):
        return [path for _, path, _ in self.pages]


@pytest.fixture(scope="module")
def cluster():
    leader = None
    for _ in range(60):
        leader = requests.get(url(1, "/api/v1/cluster"), verify=CA, timeout=5).json()["leader"]
        if leader:
            break
        time.sleep(0.5)
    assert leader, "no leader"
    follower = 1 if leader != 1 else 2
    sink = Sink()
    port = sink.server_address[1]
    for person, role in (("duty", "responder"), ("second", "responder"), ("boss", "manager")):
        api(leader, "PUT", f"/api/v1/people/{person}", {
            "id": person, "name": f"{person.title()} Person", "role": role,
            "contact_methods": [{"id": "hook", "kind": "webhook", "address": f"http://127.0.0.1:{port}/{person}"}],
            "notification_rules": [{"contact_method_id": "hook", "delay_seconds": 0}]})
        api(leader, "PUT", f"/api/v1/people/{person}/password", {"password": PASSWORD})
    api(leader, "PUT", "/api/v1/escalation-policies/console", {
        "id": "console", "name": "Console test", "repeat_count": 0, "repeat_from_level": 0,
        "levels": [{"targets": [{"person": "duty"}], "delay_seconds": LEVEL_SECONDS},
                   {"targets": [{"person": "second"}], "delay_seconds": LEVEL_SECONDS}]})
    api(leader, "PUT", "/api/v1/services/console", {"id": "console", "name": "Console shop", "escalation_policy_id": "console"})
    api(leader, "POST", "/api/v1/services/console/integration-keys", {"key": ROUTING_KEY})
    # Nights only, 22:00-06:00 in Berlin: each night is its own shift, 7 hours when the clocks spring forward.
    api(leader, "PUT", "/api/v1/schedules/nights", {
        "id": "nights", "name": "Berlin nights", "time_zone_identifier": "Europe/Berlin",
        "layers": [{"name": "nights", "user_ids": ["duty", "second"], "rotation": "daily",
                    "start_date": {"year": 2027, "month": 1, "day": 4}, "handoff_minute": 1320,
                    "restrictions": [{"start_minute": 1320, "end_minute": 360}]}]})
    yield {"leader": leader, "follower": follower, "sink": sink}
    sink.shutdown()


def make_driver(phone=False):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1200,900", "--lang=en-US"):
        options.add_argument(argument)
    if phone:
        # A headless window is at least 500 px wide; device emulation gives a real 375 px viewport.
        options.add_experimental_option("mobileEmulation", {"deviceMetrics": {"width": 375, "height": 812, "pixelRatio": 2}})
    # The nodes' certificates come from the cluster's own CA, which this throwaway profile does not trust.
    options.set_capability("acceptInsecureCerts", True)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(30)
    return driver


@pytest.fixture(scope="module")
def browser():
    driver = make_driver()
    yield driver
    driver.quit()


def shot(driver, name):
    os.makedirs(SHOTS, exist_ok=True)
    driver.save_screenshot(os.path.join(SHOTS, f"{name}.png"))


def sign_in(driver, node, person="duty", password=PASSWORD):
    driver.get(url(node, "/console/sign-in"))
    driver.find_element(By.ID, "person").send_keys(person)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "sign-in").click()
    WebDriverWait(driver, 10).until(EC.url_contains("/console/now"))


def wait(driver, seconds=10):
    return WebDriverWait(driver, seconds, poll_frequency=0.1)


def session_for(node, person="duty"):
    """A requests session signed in through the form, as the browser does."""
    session = requests.Session()
    # Otherwise REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE in the environment would override `verify`.
    session.trust_env = False
    session.verify = CA
    response = session.post(url(node, "/console/sign-in"), data={"person": person, "password": PASSWORD},
                            headers={"Origin": url(node)}, allow_redirects=False, timeout=15)
    assert response.status_code == 303, response.text
    return session


def csrf_of(session, node, path="/console/now"):
    page = session.get(url(node, path), timeout=15).text
    marker = 'name="csrf" value="'
    start = page.index(marker) + len(marker)
    return page[start:page.index('"', start)]


def test_sign_in_sets_a_strict_session_cookie(cluster, browser):
    sign_in(browser, cluster["follower"])
    cookie = browser.get_cookie("vigil_session")
    assert cookie and cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict", cookie
    assert browser.find_element(By.TAG_NAME, "h1").text == "Now"
    shot(browser, "now")


def test_a_trigger_appears_live_and_acknowledging_it_stops_the_next_level(cluster, browser):
    follower, sink = cluster["follower"], cluster["sink"]
    browser.get(url(follower, "/console/now"))
    browser.execute_script("window.__notReloaded = true;")
    summary = f"Checkout down {time.time()}"
    sent = time.time()
    requests.post(url(cluster["leader"], "/v2/enqueue"), verify=CA, timeout=10, json={
        "routing_key": ROUTING_KEY, "event_action": "trigger", "dedup_key": summary,
        "payload": {"summary": summary, "source": "console-test", "severity": "critical"}}).raise_for_status()
    row = wait(browser, 2.0).until(
        lambda d: next((r for r in d.find_elements(By.CSS_SELECTOR, "tr.emergency") if summary in r.text), None))
    appeared = time.time() - sent
    assert browser.execute_script("return window.__notReloaded === true;"), "the page was reloaded"
    assert appeared <= 2.0, f"appeared after {appeared:.2f} s"
    with open(os.path.join(SHOTS, "timings.txt"), "a", encoding="utf-8") as timings:
        timings.write(f"trigger to Now page row: {appeared:.3f} s\n")
    ticket = row.get_attribute("data-ticket")
    shot(browser, "now-emergency")
    row.find_element(By.CSS_SELECTOR, "button.ack").click()
    wait(browser).until(EC.url_contains("done=1"))
    acknowledged = api(cluster["leader"], "GET", f"/api/v1/tickets/{ticket}").json()
    assert acknowledged["acknowledged_at"], acknowledged
    assert "duty" in json.dumps(acknowledged.get("acknowledged_by")), acknowledged
    # Level 2 (the person 'second') would be due LEVEL_SECONDS after level 1; wait past it with a margin.
    deadline = sent + LEVEL_SECONDS + 4
    while time.time() < deadline:
        time.sleep(0.5)
    assert "/duty" in sink.paths(), f"level 1 was never paged: {sink.paths()}"
    assert "/second" not in sink.paths(), f"level 2 was paged after the acknowledgement: {sink.paths()}"


def test_register_a_consultation_with_a_knowledge_base_suggestion(cluster, browser):
    browser.get(url(cluster["follower"], "/console/tickets/new"))
    Select(browser.find_element(By.ID, "n-kind")).select_by_value("consultation")
    Select(browser.find_element(By.ID, "n-service")).select_by_value("web")
    browser.find_element(By.ID, "n-customer").send_keys("cust-42")
    browser.find_element(By.ID, "n-title").send_keys("Customer cannot reset password")
    link = wait(browser, 5).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#suggestions a")))
    assert link.text == "How to reset a password"
    shot(browser, "register")
    browser.find_element(By.ID, "register").click()
    wait(browser).until(EC.url_matches(r"/console/tickets/\d+\?done=1"))
    timeline = browser.find_element(By.ID, "timeline").text
    assert "registered the ticket" in timeline and "consultation" in timeline, timeline
    assert "suggested articles" in timeline and "reset-password" in timeline, timeline
    shot(browser, "ticket")


def test_chinese_labels_with_glyphs(cluster, browser):
    browser.get(url(cluster["follower"], "/console/now"))
    browser.find_element(By.CSS_SELECTOR, "a.lang").click()
    wait(browser).until(lambda d: d.find_element(By.TAG_NAME, "h1").text == "当前")
    nav = browser.find_element(By.TAG_NAME, "nav").text
    assert "工单" in nav and "值班表" in nav, nav
    # The language is remembered: another page comes in Chinese too.
    browser.get(url(cluster["follower"], "/console/tickets"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "工单"
    assert subprocess.run(["dpkg", "-s", "fonts-noto-cjk"], capture_output=True).returncode == 0
    assert browser.execute_script("return document.fonts.check('16px \"Noto Sans CJK SC\"', '当前值班');")
    shot(browser, "now-zh")
    browser.find_element(By.CSS_SELECTOR, "a.lang").click()
    wait(browser).until(lambda d: d.find_element(By.TAG_NAME, "h1").text == "Tickets")


def test_a_dst_night_shows_as_seven_hours(cluster, browser):
    # Europe/Berlin springs forward in the night to 2027-03-28: the 22:00-06:00 night shift lasts 7 hours.
    browser.get(url(cluster["follower"], "/console/schedules?id=nights&from=2027-03-25&at=2027-03-28T01:30"))
    rows = browser.find_elements(By.CSS_SELECTOR, "#final-shifts tbody tr")
    hours = [row.find_element(By.CSS_SELECTOR, "td.hours").text for row in rows]
    # The night into the 25th is cut at midnight (6 hours); 25/26 and 26/27 are 8 hours, 27/28 is 7, then 8 again.
    assert hours[:5] == ["6", "8", "8", "7", "8"], hours
    assert browser.find_element(By.ID, "on-call-at").text, "nobody on call at 02:30"
    assert browser.find_elements(By.CSS_SELECTOR, "svg.timeline rect.shift")
    shot(browser, "schedules-dst")


PAGES = ["/console/now", "/console/tickets", "/console/tickets/new", "/console/schedules", "/console/services",
         "/console/kb", "/console/kb?q=%E9%87%8D%E7%BD%AE%E5%AF%86%E7%A0%81", "/console/kb/reset-password",
         "/console/cluster", "/console/tickets/1", "/console/reports"]


@pytest.mark.parametrize("node_kind", ["leader", "follower"])
def test_every_page_on_leader_and_follower(cluster, node_kind):
    driver = make_driver()
    try:
        node = cluster[node_kind]
        sign_in(driver, node)
        for path in PAGES:
            driver.get(url(node, path))
            heading = driver.find_element(By.TAG_NAME, "h1").text
            assert heading and heading != "Something is wrong", (path, heading)
            name = path.strip("/").replace("/", "-").replace("?", "-").split("%")[0]
            shot(driver, f"{node_kind}-{name}")
        driver.get(url(node, "/console/kb?q=%E9%87%8D%E7%BD%AE%E5%AF%86%E7%A0%81"))
        assert "如何重置密码" in driver.find_element(By.CSS_SELECTOR, "ul.results").text
    finally:
        driver.quit()


def test_a_phone_width_page_does_not_scroll_sideways(cluster):
    driver = make_driver(phone=True)
    try:
        sign_in(driver, cluster["follower"])
        for path in ("/console/now", "/console/tickets", "/console/tickets/1", "/console/tickets/new", "/console/schedules"):
            driver.get(url(cluster["follower"], path))
            viewport, width = driver.execute_script("return [window.innerWidth, document.documentElement.scrollWidth];")
            assert viewport == 375 and width <= viewport, (path, viewport, width)
            shot(driver, "phone-" + path.strip("/").replace("/", "-"))
        # Every form control has a label.
        unlabeled = driver.execute_script("""
            return Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea'))
              .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).map(e => e.name);""")
        assert unlabeled == [], unlabeled
    finally:
        driver.quit()


def test_a_responder_cannot_open_a_managers_form(cluster):
    driver = make_driver()
    try:
        sign_in(driver, cluster["follower"], person="duty")
        driver.get(url(cluster["follower"], "/console/services/web/edit"))
        assert driver.find_element(By.TAG_NAME, "h1").text == "Something is wrong"
        assert "role does not allow" in driver.find_element(By.CSS_SELECTOR, ".problem").text
        assert not driver.find_elements(By.ID, "m-start")
        driver.get(url(cluster["follower"], "/console/services"))
        assert not driver.find_elements(By.LINK_TEXT, "Edit")
    finally:
        driver.quit()
    driver = make_driver()
    try:
        sign_in(driver, cluster["follower"], person="boss")
        driver.get(url(cluster["follower"], "/console/services/web/edit"))
        assert driver.find_elements(By.ID, "m-start")
    finally:
        driver.quit()


def test_user_supplied_text_is_shown_as_text(cluster, browser):
    title = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'
    created = api(cluster["leader"], "POST", "/api/v1/tickets",
                  {"kind": "complaint", "priority": "P3", "title": title, "service_id": "web"}).json()
    ticket = created["object"]["id"]
    browser.get(url(cluster["follower"], f"/console/tickets/{ticket}"))
    assert title in browser.find_element(By.TAG_NAME, "h1").text
    time.sleep(0.5)
    assert browser.execute_script("return window.__xss === undefined;")


def test_cross_site_posts_are_refused(cluster):
    node = cluster["follower"]
    session = session_for(node)
    token = csrf_of(session, node)
    target = url(node, "/console/tickets/1/comment")
    # Another site's page posting with the cookie (as a browser without SameSite would).
    refused = session.post(target, data={"csrf": token, "text": "from evil"}, headers={"Origin": "https://evil.example"},
                           allow_redirects=False, timeout=15)
    assert refused.status_code == 403, refused.status_code
    # The right origin but no, or a wrong, CSRF token.
    for data in ({"text": "no token"}, {"csrf": "0" * 64, "text": "wrong token"}):
        refused = session.post(target, data=data, headers={"Origin": url(node)}, allow_redirects=False, timeout=15)
        assert refused.status_code == 403, refused.status_code
    timeline = json.dumps(api(cluster["leader"], "GET", "/api/v1/tickets/1").json())
    assert "from evil" not in timeline and "no token" not in timeline and "wrong token" not in timeline
    accepted = session.post(target, data={"csrf": token, "text": "from the console"}, headers={"Origin": url(node)},
                            allow_redirects=False, timeout=15)
    assert accepted.status_code == 303, accepted.text
    assert "from the console" in json.dumps(api(cluster["leader"], "GET", "/api/v1/tickets/1").json())


def test_content_security_policy_forbids_inline_script(cluster):
    session = session_for(cluster["follower"])
    response = session.get(url(cluster["follower"], "/console/now"), timeout=15)
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy, policy
    assert "<script>" not in response.text and " style=" not in response.text


def test_sign_out_ends_the_session_on_every_node(cluster):
    node = cluster["follower"]
    session = session_for(node)
    cookie = session.cookies.get("vigil_session")
    signed_out = session.post(url(node, "/console/sign-out"), data={"csrf": csrf_of(session, node)},
                              headers={"Origin": url(node)}, allow_redirects=False, timeout=15)
    assert signed_out.status_code == 303
    for other in (1, 2, 3):
        answer = requests.get(url(other, "/console/now"), cookies={"vigil_session": cookie}, verify=CA,
                              allow_redirects=False, timeout=15)
        assert answer.status_code == 303 and "/console/sign-in" in answer.headers["Location"], (other, answer.status_code)


def test_a_session_opened_on_one_node_works_on_the_others(cluster):
    session = session_for(cluster["follower"])
    cookie = session.cookies.get("vigil_session")
    for other in (1, 2, 3):
        answer = requests.get(url(other, "/console/cluster"), cookies={"vigil_session": cookie}, verify=CA,
                              allow_redirects=False, timeout=15)
        assert answer.status_code == 200, (other, answer.status_code)


def test_failed_sign_ins_are_rate_limited_per_person(cluster):
    node = cluster["leader"]
    statuses = []
    for _ in range(6):
        response = requests.post(url(node, "/console/sign-in"), data={"person": "second", "password": "wrong password!"},
                                 headers={"Origin": url(node)}, verify=CA, allow_redirects=False, timeout=15)
        statuses.append(response.status_code)
    assert statuses[:5] == [401] * 5 and statuses[5] == 429, statuses
    # Even the right password waits for the minute to pass.
    response = requests.post(url(node, "/console/sign-in"), data={"person": "second", "password": PASSWORD},
                             headers={"Origin": url(node)}, verify=CA, allow_redirects=False, timeout=15)
    assert response.status_code == 429


def test_a_manager_adds_and_removes_an_override(cluster):
    node = cluster["follower"]
    session = session_for(node, person="boss")
    token = csrf_of(session, node, "/console/schedules?id=nights")
    added = session.post(url(node, "/console/schedules/nights/overrides"), headers={"Origin": url(node)}, allow_redirects=False,
                         data={"csrf": token, "person": "boss", "start": "2027-03-27T22:00", "end": "2027-03-28T06:00"}, timeout=15)
    assert added.status_code == 303, added.text
    schedule = api(cluster["leader"], "GET", "/api/v1/schedules/nights").json()
    assert schedule["overrides"] == [{"person_id": "boss", "start": 1806181200000, "end": 1806206400000}], schedule["overrides"]
    page = session.get(url(node, "/console/schedules?id=nights&at=2027-03-28T01:30"), timeout=15).text
    assert 'id="on-call-at">Boss Person (boss)' in page
    removed = session.post(url(node, "/console/schedules/nights/overrides/remove"), headers={"Origin": url(node)}, allow_redirects=False,
                           data={"csrf": token, "person": "boss", "start_ms": "1806181200000", "end_ms": "1806206400000"}, timeout=15)
    assert removed.status_code == 303, removed.text
    assert api(cluster["leader"], "GET", "/api/v1/schedules/nights").json()["overrides"] == []
    # A responder may not.
    responder = session_for(node, person="duty")
    refused = responder.post(url(node, "/console/schedules/nights/overrides"), headers={"Origin": url(node)}, allow_redirects=False,
                             data={"csrf": csrf_of(responder, node), "person": "duty", "start": "2027-03-27T22:00", "end": "2027-03-28T06:00"},
                             timeout=15)
    assert refused.status_code == 403


def test_reports_with_a_chart_and_csv(cluster, browser):
    month = time.strftime("%Y-%m", time.gmtime())
    browser.get(url(cluster["follower"], f"/console/reports?month={month}&group=team"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Reports"
    assert browser.find_elements(By.CSS_SELECTOR, "#report tbody tr"), "no report rows"
    assert browser.find_elements(By.CSS_SELECTOR, "svg.timeline")
    shot(browser, "reports")
    session = session_for(cluster["follower"])
    csv = session.get(url(cluster["follower"], f"/console/reports.csv?month={month}&group=team&time_zone=UTC&format=csv"), timeout=15)
    assert csv.status_code == 200 and csv.headers["Content-Type"].startswith("text/csv"), csv.status_code
    assert "attachment" in csv.headers["Content-Disposition"]
    assert csv.text.splitlines()[0].startswith("month,group,"), csv.text[:200]
    assert any(line.startswith(f"{month},") for line in csv.text.splitlines()[1:]), csv.text[:400]


def test_a_manager_edits_an_article_in_markdown(cluster):
    driver = make_driver()
    try:
        node = cluster["follower"]
        sign_in(driver, node, person="boss")
        driver.get(url(node, "/console/kb/edit?id=vpn-access"))
        driver.find_element(By.ID, "e-title").send_keys("VPN access")
        driver.find_element(By.ID, "e-category").send_keys("network")
        driver.find_element(By.ID, "e-body").send_keys("Use **two-factor** sign-in.\n\n<img src=x onerror=\"window.__xss=3\">")
        driver.find_element(By.ID, "save-article").click()
        wait(driver).until(EC.url_contains("/console/kb/vpn-access"))
        article = driver.find_element(By.CSS_SELECTOR, ".article")
        assert article.find_element(By.TAG_NAME, "strong").text == "two-factor"
        assert "<img src=x" in article.text
        assert driver.execute_script("return window.__xss === undefined;")
        shot(driver, "article")
    finally:
        driver.quit()
    # A responder reads it but may not open the editor.
    responder = session_for(cluster["follower"])
    assert "two-factor" in responder.get(url(cluster["follower"], "/console/kb/vpn-access"), timeout=15).text
    assert responder.get(url(cluster["follower"], "/console/kb/edit?id=vpn-access"), timeout=15).status_code == 403


def test_a_one_time_link_sets_a_password(cluster):
    api(cluster["leader"], "PUT", "/api/v1/people/newbie", {"id": "newbie", "name": "New Person", "role": "viewer"})
    link = api(cluster["leader"], "POST", "/api/v1/people/newbie/password-link", {"valid_hours": 1}).json()["url"]
    # The link names the node it was asked on; open it on a follower instead: it is valid on every node.
    path = urllib.parse.urlparse(link).path
    node = cluster["follower"]
    driver = make_driver()
    try:
        driver.get(url(node, path))
        driver.find_element(By.ID, "new-password").send_keys("a brand new secret")
        driver.find_element(By.ID, "repeat-password").send_keys("a different secret")
        driver.find_element(By.ID, "set-password").click()
        assert "differ" in wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".problem"))).text
        driver.find_element(By.ID, "new-password").send_keys("a brand new secret")
        driver.find_element(By.ID, "repeat-password").send_keys("a brand new secret")
        driver.find_element(By.ID, "set-password").click()
        wait(driver).until(EC.url_contains("/console/sign-in?password_set=1"))
        sign_in(driver, node, person="newbie", password="a brand new secret")
        assert driver.find_element(By.CSS_SELECTOR, ".who").text.startswith("New Person")
        # Used once, the link is gone.
        driver.get(url(node, path))
        assert driver.find_element(By.CSS_SELECTOR, ".problem").text
        assert not driver.find_elements(By.ID, "new-password")
    finally:
        driver.quit()


def test_a_manager_edits_an_escalation_policy_and_a_service(cluster):
    node = cluster["follower"]
    session = session_for(node, person="boss")
    token = csrf_of(session, node, "/console/policies/edit?id=night-ops")
    bad = session.post(url(node, "/console/policies/edit"), headers={"Origin": url(node)}, allow_redirects=False, timeout=15,
                       data={"csrf": token, "id": "night-ops", "name": "Night ops", "levels": "5 person:duty\nsoon someone"})
    assert bad.status_code == 400 and "Line 2" in bad.text, bad.status_code
    saved = session.post(url(node, "/console/policies/edit"), headers={"Origin": url(node)}, allow_redirects=False, timeout=15,
                         data={"csrf": token, "id": "night-ops", "name": "Night ops", "repeat_count": "1", "repeat_from_level": "2",
                               "levels": "5 person:duty, schedule:nights\n10 team:ops"})
    assert saved.status_code == 303, saved.text
    policy = api(cluster["leader"], "GET", "/api/v1/escalation-policies/night-ops").json()
    assert [level["delay_minutes"] for level in policy["levels"]] == [5, 10], policy
    assert policy["repeat_count"] == 1 and policy["repeat_from_level"] == 1, policy
    edit = session.get(url(node, "/console/policies/edit?id=night-ops"), timeout=15).text
    assert "5 person:duty, schedule:nights\n10 team:ops" in edit
    saved = session.post(url(node, "/console/services/console/settings"), headers={"Origin": url(node)}, allow_redirects=False, timeout=15,
                         data={"csrf": token, "name": "Console shop", "team_id": "ops", "escalation_policy_id": "console", "sla_policy_id": ""})
    assert saved.status_code == 303, saved.text
    service = api(cluster["leader"], "GET", "/api/v1/services/console").json()
    assert service["team_id"] == "ops" and ROUTING_KEY in service["integration_keys"], service
