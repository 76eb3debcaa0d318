"""The drift figures as a plain-text table, for ``manage.py drift`` (an operator without Prometheus)."""

from .drift import Day

COLUMNS = ("day", "model version", "count", "unsure", "PSI conf.", "PSI digits", "labelled", "accuracy", "status")


def table(days: list[Day]) -> str:
    """One row per day and model version, columns aligned; a note when there is nothing."""
    if not days:
        return "No predictions in this range."
    rows = [COLUMNS, *([day.day, day.model_version, str(day.count), _percent(day.unsure_share),
                        _number(day.confidence_psi), _number(day.digit_psi), str(day.labelled),
                        _percent(day.accuracy), day.status] for day in days)]
    widths = [max(len(row[column]) for row in rows) for column in range(len(COLUMNS))]
    return "\n".join("  ".join(cell.ljust(width) if column < 2 else cell.rjust(width)
                               for column, (cell, width) in enumerate(zip(row, widths, strict=True))).rstrip()
                     for row in rows)


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def _number(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"
