"""The stats page's drift panel, drawn as inline SVG on the server: no script, no chart library.

Line charts over the days of a range (one line per model version; a day under the minimum sample
is left out, so it draws no alarm), and the latest day's confidence histogram against the reference.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings

from ..drift import BINS, MODERATE, SIGNIFICANT, Day, bin_labels, shares
from ..selectors import drift_days

DAYS = 30
PSI_CAP = 1.0  # higher PSIs are drawn at the top (their value in the point's title): the bands stay readable
WIDTH, HEIGHT, LEFT, BOTTOM = 640, 170, 44, 20
PLOT_WIDTH, PLOT_HEIGHT = WIDTH - LEFT - 8, HEIGHT - BOTTOM - 8
COLOURS = ("#205493", "#d4351c", "#00703c", "#912b88", "#f47738", "#28a197")


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    title: str


@dataclass(frozen=True)
class Line:
    model_version: str
    colour: str
    points: list[Point]
    gap: float  # x distance beyond which two points are not joined (a day without figures between them)

    @property
    def paths(self) -> list[str]:
        """One polyline per run of consecutive days."""
        runs: list[list[Point]] = []
        for point in self.points:
            if runs and point.x - runs[-1][-1].x <= self.gap:
                runs[-1].append(point)
            else:
                runs.append([point])
        return [" ".join(f"{point.x:.1f},{point.y:.1f}" for point in run) for run in runs]


@dataclass(frozen=True)
class Band:
    y: float
    height: float
    name: str


@dataclass(frozen=True)
class Chart:
    title: str
    testid: str
    lines: list[Line]
    bands: list[Band]
    ticks: list[tuple[float, str]]  # (y, label)
    first_day: str
    last_day: str


@dataclass(frozen=True)
class HistogramBar:
    label: str
    share: float
    reference: float | None


def context(*, days: int = DAYS) -> dict:
    """The stats page's drift context: the last ``days`` UTC days, and how they are judged."""
    until = dt.datetime.now(dt.UTC).date()
    since = until - dt.timedelta(days=days - 1)
    return {"drift": panel(drift_days(since=since, until=until), since=since, until=until),
            "reference_kind": settings.NUMBERFIGURE_DRIFT_REFERENCE,
            "reference_days": settings.NUMBERFIGURE_DRIFT_REFERENCE_DAYS,
            "min_sample": settings.NUMBERFIGURE_DRIFT_MIN_SAMPLE}


def panel(days: list[Day], *, since: dt.date, until: dt.date) -> dict:
    """The template's context for the drift panel of ``days`` (``selectors.drift_days``)."""
    versions = sorted({day.model_version for day in days})
    colours = {version: COLOURS[index % len(COLOURS)] for index, version in enumerate(versions)}
    chart = _charter(days, since=since, until=until, colours=colours)
    psi_top = min(PSI_CAP, max([0.5, *(value * 1.1 for day in days if day.enough
                                       for value in (day.confidence_psi, day.digit_psi) if value is not None)]))
    unsure_top = max([0.05, *(day.unsure_share * 1.2 for day in days if day.enough and day.unsure_share)])
    latest = max(days, key=lambda day: (day.day, day.count, day.model_version), default=None)
    return {
        "charts": [
            chart("Unsure share", "drift-unsure", lambda day: day.unsure_share, unsure_top, percent=True),
            chart("PSI of the confidence histogram", "drift-psi-confidence", lambda day: day.confidence_psi,
                  psi_top, bands=True),
            chart("PSI of the predicted digits", "drift-psi-digits", lambda day: day.digit_psi, psi_top, bands=True),
            chart("Accuracy against corrected labels", "drift-accuracy", lambda day: day.accuracy, 1.0, percent=True),
        ],
        "versions": [(version, colours[version]) for version in versions],
        "latest": latest,
        "histogram": histogram(latest) if latest else [],
        "today": [day for day in days if day.day == until.isoformat()],
    }


def histogram(day: Day) -> list[HistogramBar]:
    """The day's share of answers in each confidence bin, and the reference's."""
    reference = shares(day.reference.confidence) if day.reference else [None] * BINS
    return [HistogramBar(label, share, ref)
            for label, share, ref in zip(bin_labels(), shares(day.confidence), reference, strict=True)]


def _charter(days: list[Day], *, since: dt.date, until: dt.date, colours: dict[str, str]) -> Callable[..., Chart]:
    span = max(1, (until - since).days)

    def chart(title: str, testid: str, value: Callable[[Day], float | None], top: float, *,
              bands: bool = False, percent: bool = False) -> Chart:
        def y(amount: float) -> float:
            return 8 + PLOT_HEIGHT * (1 - min(amount, top) / top)

        def label(amount: float) -> str:
            return f"{amount:.0%}" if percent else f"{amount:.2f}"

        lines = []
        for version, colour in colours.items():
            points = [Point(LEFT + PLOT_WIDTH * (dt.date.fromisoformat(day.day) - since).days / span,
                            y(amount), f"{day.day} {version}: {label(amount)} ({day.count} predictions)")
                      for day in days if day.model_version == version and day.enough
                      and (amount := value(day)) is not None]
            if points:
                lines.append(Line(version, colour, points, gap=PLOT_WIDTH / span * 1.5))
        shaded = [Band(y(SIGNIFICANT), y(MODERATE) - y(SIGNIFICANT), "moderate"),
                  Band(8, y(SIGNIFICANT) - 8, "significant")] if bands else []
        ticks = [(y(top * share), label(top * share)) for share in (0, 0.5, 1)]
        return Chart(title, testid, lines, shaded, ticks, since.isoformat(), until.isoformat())

    return chart
