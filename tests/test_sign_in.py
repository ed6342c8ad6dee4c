"""Sign-in end to end in headless Chromium: `streamlit run app.py` with OIDC settings in its
secrets, against a local OpenID Connect provider started here (oidc-provider-mock, from PyPI:
its authorize form takes the subject, which is also the e-mail claim). A viewer who is not a
lead signs in and gets no Specialists page and pseudonyms only; a lead gets both."""

from __future__ import annotations

import os

import pytest

from tests.streamlit_server import CHROMIUM, CHROMIUM_ARGS, ROOT, free_port, running_app
from tests.test_browser import wait_idle

pytestmark = pytest.mark.browser

SALT = "sign-in-test-salt-0123456789"


@pytest.fixture(scope="module")
def provider():
    os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")  # plain http on 127.0.0.1, tests only
    from oidc_provider_mock import run_server_in_thread

    with run_server_in_thread(port=free_port()) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture(scope="module")
def app_with_sign_in(tmp_path_factory, provider):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    from metrics.sample import ensure_sample_duckdb

    ensure_sample_duckdb(ROOT / "data" / "sample")
    port = free_port()
    folder = tmp_path_factory.mktemp("sign_in")
    secrets = folder / "secrets.toml"
    secrets.write_text(f"""
[auth]
redirect_uri = "http://localhost:{port}/oauth2callback"
cookie_secret = "a-cookie-secret-for-the-sign-in-test"
client_id = "appeals-dashboard"
client_secret = "not-checked-by-the-mock"
server_metadata_url = "{provider}/.well-known/openid-configuration"

[roles]
leads = ["lead@example.com"]

[pseudonyms]
salt = "{SALT}"
""")
    env = {k: v for k, v in os.environ.items() if not k.startswith("APPEALS_")}
    env["AUTHLIB_INSECURE_TRANSPORT"] = "1"
    log = folder / "server.log"
    with running_app(port, "localhost", env, log, ("--secrets.files", str(secrets))) as base:
        yield base, log


@pytest.fixture(scope="module")
def browser(app_with_sign_in):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


def sign_in(browser, base: str, email: str):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(base)
    page.get_by_role("button", name="Sign in").click(timeout=60_000)
    page.wait_for_selector('input[name="sub"]', timeout=30_000)  # the provider's authorize form
    page.fill('input[name="sub"]', email)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{base}/**", timeout=30_000)
    page.wait_for_selector('[data-testid="stSidebar"]', timeout=60_000)
    page.wait_for_selector("h1", timeout=90_000)
    wait_idle(page)
    return context, page


def nav_links(page) -> list[str]:
    # each link reads "<icon name>\n\n<title>": the title is the last line
    return [t.strip().splitlines()[-1] for t in page.locator('[data-testid="stSidebarNav"] a').all_inner_texts()]


def test_a_viewer_signs_in_and_sees_no_specialist_page_or_name(browser, app_with_sign_in):
    base, log = app_with_sign_in
    page = browser.new_page()
    page.goto(base)
    page.get_by_role("button", name="Sign in").wait_for(timeout=60_000)
    assert page.locator('[data-testid="stMetric"]').count() == 0  # nothing before sign-in
    page.close()

    context, page = sign_in(browser, base, "viewer@example.com")
    assert page.locator("h1").first.inner_text() == "Overview"
    sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
    assert "Signed in as viewer@example.com · viewer" in sidebar, log.read_text()[-2000:]
    links = nav_links(page)
    assert "Queues" in links and "Specialists" not in links
    toggle = page.locator('[data-testid="stSidebar"] label:has-text("Pseudonymise specialists") input')
    assert toggle.is_checked() and toggle.is_disabled()  # names only as pseudonyms, not switchable
    page.goto(f"{base}/specialists")  # a deep link past the navigation
    page.wait_for_selector('[data-testid="stSidebar"]', timeout=60_000)
    wait_idle(page)
    assert "Brianna Scott" not in page.locator("body").inner_text()
    assert page.locator("h1").first.inner_text() != "Specialists"
    context.close()


def test_a_lead_signs_in_and_sees_specialists(browser, app_with_sign_in):
    base, _log = app_with_sign_in
    context, page = sign_in(browser, base, "lead@example.com")
    assert "Signed in as lead@example.com · lead" in page.locator('[data-testid="stSidebar"]').inner_text()
    assert "Specialists" in nav_links(page)
    page.goto(f"{base}/specialists")
    page.wait_for_selector("h1", timeout=90_000)
    wait_idle(page)
    assert page.locator("h1").first.inner_text() == "Specialists"
    assert "Brianna Scott (sp_012)" in page.locator("body").inner_text()
    context.close()
