"""The draw page driven like a user, through Playwright (the browser fixtures are in tests/conftest.py)."""

from playwright.sync_api import Page

CANVAS = 280  # the draw page's logical canvas side: stroke coordinates are in these units


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
