"""A real Chromium (Debian's, never Playwright's download) driven through Playwright's sync API."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CANVAS = 280  # the draw page's logical canvas side: stroke coordinates are in these units

# Playwright's sync API runs an event loop in the test thread; Django then refuses its database calls
# there (flushing the test database, reading Cassandra back) unless told that this is deliberate.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (make test does)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser):
    """Open pages in fresh browser contexts: ``new_page(has_touch=True, ...)``; closed after the test."""
    contexts, errors = [], []

    def open_page(**options):
        context = browser.new_context(**{"viewport": {"width": 1000, "height": 800}, **options})
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(error))
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript errors: {errors}"


@pytest.fixture
def page(new_page):
    return new_page()


@pytest.fixture
def screenshot():
    """``screenshot(page, name)`` saves a full-page test-artifacts/<name>.png (gitignored)."""
    def save(page: Page, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=path, full_page=True)
        return path
    return save


class DrawPage:
    """The draw page, driven like a user: strokes are in canvas units (0–CANVAS), drawn with the mouse."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.canvas = page.get_by_test_id("canvas")
        self.outcome = page.get_by_test_id("outcome")

    def to_page(self, points) -> list[tuple[float, float]]:
        """Canvas units -> page coordinates (the canvas is CANVAS units high, and wider on wide screens)."""
        box = self.canvas.bounding_box()
        scale = box["height"] / CANVAS
        return [(box["x"] + x * scale, box["y"] + y * scale) for x, y in points]

    def draw(self, strokes, steps: int = 3) -> None:
        """Each stroke: press at its first point, move through the rest (``steps`` moves each), release."""
        mouse = self.page.mouse
        for stroke in strokes:
            start, *rest = self.to_page(stroke)
            mouse.move(*start)
            mouse.down()
            for point in rest:
                mouse.move(*point, steps=steps)
            mouse.up()

    def set_brush(self, width: int) -> None:
        """What dragging the slider does: set the value, fire ``input``."""
        self.page.get_by_test_id("brush").evaluate(
            "(slider, width) => { slider.value = width; slider.dispatchEvent(new Event('input')); }", width)

    def settle(self) -> str:
        """Wait until the preview (or save) answered; return the state, failing on an error."""
        self.page.locator("[data-testid=outcome]:not([data-state=pending], [data-state=saving])").wait_for()
        state = self.outcome.get_attribute("data-state")
        assert state != "error", self.page.get_by_test_id("error").inner_text()
        return state

    def digit(self) -> int:
        self.settle()
        return int(self.outcome.get_by_test_id("digit").inner_text())

    def pixels(self) -> str:
        return self.canvas.evaluate("canvas => canvas.toDataURL()")


@pytest.fixture
def open_draw(new_page, live_server):
    """Open the draw page in a new context: ``open_draw(has_touch=True)``."""
    def open_page(**options) -> DrawPage:
        page = new_page(**options)
        page.goto(f"{live_server.url}/draw")
        return DrawPage(page)
    return open_page


@pytest.fixture
def draw_page(open_draw) -> DrawPage:
    return open_draw()
