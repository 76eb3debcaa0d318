"""The drift counters: per day and model version, what the stored predictions look like.

They travel with the stats totals (``storage.stats``): a prediction's contribution carries its drift
keys under ``Stat.DRIFT``, so they are summed in memory, written in the same counter batch about once
a second, held while a recount runs, spooled with an outbox record, and put right by
``recount_stats``, exactly like the totals. The predict path pays for a few more dictionary keys.

A key's name is ``"day|model version|figure|value"``. ``figure`` ``count`` goes to
``drift_days_by_version`` (partition: the model version, one row per day it served), every other
figure to ``drift_by_day`` (partition: the day, a few dozen rows per model version).
"""

import datetime as dt
from collections import Counter
from enum import StrEnum

from cassandra.query import BoundStatement

from ..drift import Day, Reference, confidence_bin, day_of, reference_of_card, reference_of_days
from ..models import DriftCounter, DriftDay
from . import cql
from .keys import ALL


class Figure(StrEnum):
    COUNT = "count"
    UNSURE = "unsure"
    CONFIDENCE = "confidence"  # value: the bin's index
    DIGIT = "digit"  # value: the predicted digit
    LABELLED = "labelled"
    LABELLED_CORRECT = "labelled_correct"


def contribution(prediction, *, unsure_below: float) -> Counter:
    """What one prediction adds: key name -> amount (the caller files them under ``Stat.DRIFT``)."""
    prefix = f"{prediction.created_at.date().isoformat()}|{prediction.model_version}|"
    totals = Counter({
        f"{prefix}{Figure.COUNT}|{ALL}": 1,
        f"{prefix}{Figure.CONFIDENCE}|{confidence_bin(prediction.confidence)}": 1,
        f"{prefix}{Figure.DIGIT}|{prediction.digit}": 1,
    })
    if prediction.confidence < unsure_below:
        totals[f"{prefix}{Figure.UNSURE}|{ALL}"] = 1
    if prediction.corrected_label is not None:
        totals[f"{prefix}{Figure.LABELLED}|{ALL}"] = 1
        totals[f"{prefix}{Figure.LABELLED_CORRECT}|{ALL}"] = int(prediction.corrected_label == prediction.digit)
    return +totals


def parse(name: str) -> tuple[dt.date, str, str, str]:
    """(day, model version, figure, value) of a key name (a model version may hold ``|``)."""
    day, rest = name.split("|", 1)
    version, figure, value = rest.rsplit("|", 2)
    return dt.date.fromisoformat(day), version, figure, value


def update(name: str, amount: int) -> BoundStatement:
    """The counter update moving key ``name`` by ``amount``."""
    day, version, figure, value = parse(name)
    if figure == Figure.COUNT:
        return cql.bind(f"UPDATE {DriftDay.column_family_name()} SET value = value + ? "
                        "WHERE model_version = ? AND day = ?", (amount, version, day))
    return cql.bind(f"UPDATE {DriftCounter.column_family_name()} SET value = value + ? "
                    "WHERE day = ? AND model_version = ? AND figure = ? AND name = ?",
                    (amount, day, version, figure, value))


def by_day(change: Counter) -> list[Counter]:
    """``change`` (key name -> amount) cut into one part per day, for batches of bounded size."""
    parts: dict[str, Counter] = {}
    for name, amount in change.items():
        parts.setdefault(name.split("|", 1)[0], Counter())[name] = amount
    return [parts[day] for day in sorted(parts)]


def read(days: list[dt.date], *, versions: set[str] = frozenset()) -> Counter:
    """Every drift counter of ``days`` (one partition each, read concurrently): key name -> value;
    the counts of the model versions found there and of ``versions``."""
    rows = cql.run_concurrently([cql.select(DriftCounter, "day = ?", [day]) for day in days])
    totals = Counter({
        f"{_date(row['day'])}|{row['model_version']}|{row['figure']}|{row['name']}": row["value"]
        for day_rows in rows for row in day_rows
    })
    versions = sorted({parse(name)[1] for name in totals} | set(versions))
    if days and versions:
        statement = "model_version = ? AND day >= ? AND day <= ?"
        counts = cql.run_concurrently([cql.select(DriftDay, statement, [version, min(days), max(days)])
                                       for version in versions])
        wanted = {str(day) for day in days}
        totals.update({
            f"{_date(row['day'])}|{version}|{Figure.COUNT}|{ALL}": row["value"]
            for version, version_rows in zip(versions, counts, strict=True)
            for row in version_rows if str(_date(row["day"])) in wanted
        })
    return totals


def first_days(model_version: str, count: int) -> list[dt.date]:
    """The first ``count`` days on which ``model_version`` made predictions."""
    rows = cql.run(cql.select(DriftDay, "model_version = ?", [model_version], tail=f"LIMIT {int(count)}",
                              columns="day"))
    return [_date(row["day"]) for row in rows]


def _date(value) -> dt.date:
    """The driver's ``cassandra.util.Date`` as a ``datetime.date``."""
    return value.date() if hasattr(value, "date") else value


def days(*, since: dt.date, until: dt.date, reference: str, reference_days: int, min_sample: int,
         card: dict | None) -> list[Day]:
    """Each model version's figures on each day from ``since`` to ``until`` with predictions, oldest
    first, each against its reference: ``card`` when ``reference`` is ``"card"`` and ``card`` is
    that version's (with drift figures), else the version's first ``reference_days`` days."""
    span = [since + dt.timedelta(days=offset) for offset in range((until - since).days + 1)]
    by_version = grouped(read(span))
    references = {version: _reference(version, reference=reference, reference_days=reference_days, card=card)
                  for version in {version for _, version in by_version}}
    return [day_of(counters, day=day, model_version=version, reference=references[version], min_sample=min_sample)
            for (day, version), counters in sorted(by_version.items())]


def grouped(totals: Counter) -> dict[tuple[str, str], dict[tuple[str, str], int]]:
    """Key names -> value, grouped: (day, model version) -> {(figure, value): count}."""
    groups: dict[tuple[str, str], dict[tuple[str, str], int]] = {}
    for name, value in totals.items():
        day, version, figure, key = parse(name)
        groups.setdefault((day.isoformat(), version), {})[(figure, key)] = value
    return groups


def _reference(version: str, *, reference: str, reference_days: int, card: dict | None) -> Reference | None:
    if reference == "card" and card and card.get("version") == version and (from_card := reference_of_card(card)):
        return from_card
    first = first_days(version, reference_days)
    return reference_of_days([day_of(counters, day=day, model_version=version, reference=None, min_sample=0)
                              for (day, of), counters in grouped(read(first)).items() if of == version])
