"""Real-browser tests: Playwright (sync API) driving Debian's chromium against pytest-django's live_server.

Fixtures for every e2e module (mark tests `@pytest.mark.e2e`):

- `browser` (session): one headless chromium (/usr/bin/chromium) per test process, shared by every
  directory that uses these fixtures.
- `page`: a fresh browser context and page for each test, its `base_url` set to the live server, so
  `page.goto("/flows/")` works. The test FAILS if, while it runs, the page logs a console error
  (failed resource loads included), throws an uncaught exception, violates the Content-Security-Policy,
  or gets a 5xx answer. Errors are collected in `browser_errors`; a test that provokes one on purpose
  asserts on it and clears the list. /favicon.ico is answered in the browser (204), never by the app.
- `logged_in_page`: `page`, logged in through the real login form as a new staff superuser
  (`E2E_USERNAME` / `tests.conftest.STAFF_PASSWORD`), on the flow list.

Another test directory can use them with `from tests.e2e.conftest import browser, browser_errors,
live_server, logged_in_page, page, pytest_runtest_call` in its conftest (without the hook, browser
errors fail the test at teardown rather than in its call phase).

The live server runs in a thread of the test process and shares its settings: request `allow_loopback`
(tests/conftest.py) so actions can reach a local upstream such as the `httpbin_url` server. The test
database is transactional (live_server implies it): create objects with the ORM before `page.goto`.
htmx is loaded with `defer`: after a click that navigates, `page.wait_for_load_state()` before typing
into an input that htmx drives (`page.goto` already waits for the load event).
"""

import os
import re

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, Response, expect, sync_playwright

from tests.conftest import STAFF_PASSWORD, make_user

# Playwright's sync API runs an event loop in this thread; Django must still let the test use the ORM.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
E2E_USERNAME = "e2e-admin"
BROWSER_ERRORS = pytest.StashKey[list[str]]()
BROWSER_ERRORS_CHECKED = pytest.StashKey[bool]()

# Generous waits: the suite runs in parallel on small CI machines.
expect.set_options(timeout=10_000)

# Reported to the console, and so caught, even when the browser itself would only count it.
_REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline code"}`);
});
"""


@pytest.fixture(scope="session")
def live_server(django_db_setup, live_server):
    """pytest-django's live server, started only once the test database exists: it then shares the
    in-memory SQLite connection instead of opening (and leaking) one per request thread."""
    return live_server


class _SharedBrowser:
    """One Playwright and one chromium per test process: a second sync Playwright cannot start while
    the first runs, and another directory's conftest that imports `browser` defines a second fixture."""

    def __init__(self) -> None:
        self.users = 0
        self.playwright: Playwright | None = None
        self.browser: Browser | None = None

    def acquire(self) -> Browser:
        if self.browser is None:
            self.playwright = sync_playwright().start()
            self.browser = self.playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        self.users += 1
        return self.browser

    def release(self) -> None:
        self.users -= 1
        if self.users == 0 and self.browser and self.playwright:
            self.browser.close()
            self.playwright.stop()
            self.browser = self.playwright = None


_shared_browser = _SharedBrowser()


@pytest.fixture(scope="session")
def browser():
    yield _shared_browser.acquire()
    _shared_browser.release()


@pytest.fixture
def browser_errors(request) -> list[str]:
    errors: list[str] = []
    request.node.stash[BROWSER_ERRORS] = errors
    return errors


@pytest.fixture
def page(request, browser: Browser, live_server, browser_errors: list[str]):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    context.add_init_script(_REPORT_CSP_VIOLATIONS)
    # Pages without an icon link (the Django admin, error pages) make the browser ask for one.
    context.route("**/favicon.ico", lambda route: route.fulfill(status=204))
    page = context.new_page()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            browser_errors.append(f"console: {message.text} ({message.location.get('url', '')})")

    def on_response(response: Response) -> None:
        if response.status >= 500:
            browser_errors.append(f"HTTP {response.status} from {response.request.method} {response.url}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: browser_errors.append(f"uncaught: {error}"))
    page.on("response", on_response)
    yield page
    context.close()
    # Imported into another directory's conftest, the hook below does not run: fail at teardown instead.
    if browser_errors and not request.node.stash.get(BROWSER_ERRORS_CHECKED, False):
        _report(browser_errors)


@pytest.fixture
def logged_in_page(page: Page) -> Page:
    make_user(E2E_USERNAME)
    page.goto("/login/")
    page.get_by_label("Username").fill(E2E_USERNAME)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/flows/$"))
    return page


def _report(errors: list[str]) -> None:
    pytest.fail("The browser reported errors:\n  " + "\n  ".join(errors), pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """Fail the test itself (not its teardown) when the browser reported an error while it ran."""
    try:
        result = yield
    finally:
        item.stash[BROWSER_ERRORS_CHECKED] = True
    if errors := item.stash.get(BROWSER_ERRORS, []):
        _report(errors)
    return result
