"""Drift figures as the service keeps them: counted as predictions are stored (directly or from the
outbox), moved by corrections, one series per model version, against the chosen reference."""

import datetime as dt
import io

import pytest
from cassandra.cluster import NoHostAvailable
from django.core.management import CommandError, call_command

from recognizer import drift
from recognizer.models import DriftCounter
from recognizer.selectors import drift_days
from recognizer.services import prediction_correct, prediction_store
from recognizer.storage import cql, outbox, recount

DAY = dt.date(2026, 12, 1)
MIDDAY = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC).timestamp()


def store(digit: int, confidence: float, *, version: str = "m1", days: int = 0, seconds: int = 0):
    probabilities = [(1 - confidence) / 9] * 10
    probabilities[digit] = confidence
    return prediction_store(source="api", filename=None, content_type="image/png", image=b"i", input_png=b"p",
                            probabilities=probabilities, model_version=version, latency_ms=1.0,
                            created=MIDDAY + days * 86400 + seconds)


@pytest.fixture
def few(settings):
    settings.NUMBERFIGURE_DRIFT_MIN_SAMPLE = 4
    settings.NUMBERFIGURE_DRIFT_REFERENCE = "days"
    settings.NUMBERFIGURE_DRIFT_REFERENCE_DAYS = 1


def test_each_figure_is_counted_as_predictions_are_stored_and_corrected(cassandra, few):
    made = [store(3, 0.9999995, seconds=n) for n in range(3)] + [store(5, 0.6, seconds=9), store(5, 0.85, seconds=10)]
    prediction_correct(prediction=made[0], label=3, user="a")
    prediction_correct(prediction=made[3], label=6, user="a")

    [found] = drift_days(since=DAY, until=DAY)
    assert (found.day, found.model_version, found.count) == ("2026-12-01", "m1", 5)
    assert found.unsure_share == pytest.approx(1 / 5)  # 0.6 is under UNSURE_BELOW
    assert found.digits == (0, 0, 0, 3, 0, 2, 0, 0, 0, 0)
    assert found.confidence == (0, 1, 0, 1, 0, 0, 0, 0, 0, 3)
    assert (found.labelled, found.accuracy) == (2, 0.5)
    assert found.reference.source == "days" and found.digit_psi == 0  # its own first day


def test_a_new_model_version_starts_its_own_series_with_its_own_reference(cassandra, few):
    for n in range(4):
        store(1, 0.99, seconds=n)
        store(1, 0.99, version="m2", days=1, seconds=n)  # m2 from the next day
        store(1 if n % 2 else 7, 0.99, days=1, seconds=n)  # m1 drifts on the next day: half 7s

    found = {(d.day, d.model_version): d for d in drift_days(since=DAY, until=DAY + dt.timedelta(days=1))}
    assert sorted(found) == [("2026-12-01", "m1"), ("2026-12-02", "m1"), ("2026-12-02", "m2")]
    m1_later, m2 = found[("2026-12-02", "m1")], found[("2026-12-02", "m2")]
    assert m1_later.reference.digits[1] == 4  # m1's first day
    assert m1_later.digit_psi > drift.SIGNIFICANT and m1_later.status == "significant"
    assert m2.count == 4 and m2.digit_psi == 0 and m2.status == "stable"  # measured against its own first day


def test_a_day_under_the_minimum_says_too_few(cassandra, few, settings):
    settings.NUMBERFIGURE_DRIFT_MIN_SAMPLE = 10
    for n in range(3):
        store(4, 0.99, seconds=n)
    [found] = drift_days(since=DAY, until=DAY)
    assert found.count == 3 and found.status == "too few"


def test_predictions_stored_from_the_outbox_are_counted_once(cassandra, few, monkeypatch):
    def refuse(*args, **kwargs):
        raise NoHostAvailable("Unable to connect to any servers", {})

    with monkeypatch.context() as patch:
        patch.setattr(cql, "run_batch", refuse)
        made = store(2, 0.3)
    assert made.pending and drift_days(since=DAY, until=DAY) == []
    assert outbox.drain() == 1
    [found] = drift_days(since=DAY, until=DAY)
    assert (found.count, found.unsure, found.digits[2]) == (1, 1, 1)


def test_a_recount_rebuilds_the_drift_counters_from_the_rows(cassandra, few, tmp_path, monkeypatch):
    for n in range(5):
        store(8, 0.97, seconds=n)
    [before] = drift_days(since=DAY, until=DAY)
    cassandra.execute(f"TRUNCATE {DriftCounter.column_family_name()}")  # lost, as a dropped counter batch loses them
    monkeypatch.setattr(recount, "HOLD_SETTLE_SECONDS", 0)
    recount.recount(checkpoint=tmp_path / "checkpoint")
    [after] = drift_days(since=DAY, until=DAY)
    assert after == before


def test_manage_py_drift_prints_the_same_figures_as_a_table(cassandra, few):
    for n in range(4):
        store(n, 0.6 if n == 0 else 0.99, seconds=n)
    out = io.StringIO()
    call_command("drift", "--since", "2026-11-30", "--until", "2026-12-01", stdout=out)
    header, row = out.getvalue().splitlines()
    assert header.split()[:3] == ["day", "model", "version"]
    assert row.split() == ["2026-12-01", "m1", "4", "25.0%", "0.000", "0.000", "0", "–", "stable"]
    with pytest.raises(CommandError, match="on or before"):
        call_command("drift", "--since", "2026-12-02", "--until", "2026-12-01")
