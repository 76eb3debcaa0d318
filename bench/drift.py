"""Drift watch end to end: a reference week of MNIST, then a week of other handwriting, as stored predictions.

In a keyspace of its own (``bench_drift``, dropped at the end) this stores, through the app's own
``prediction_store`` (so the drift counters are folded and flushed as in service):

1. a reference week: ``--per-day`` MNIST test images a day for 7 days, classified by the installed model;
2. a week of inputs from other distributions, the same number a day: MNIST test digits with thicker
   strokes (two days), shifted 5 px off centre (two days), and the non-MNIST handwriting set (UCI
   optical digits, through the upload path's preprocessing; three days);

then prints the figures ``manage.py drift`` prints for the two weeks, against the model card's
held-out validation figures and against the model's first 7 days in service, and shows the alert
rules of ``deploy/prometheus/alerts.yml`` firing on the drifted week's last day: the gauges
``/metrics`` would export are written as promtool input series for 90 minutes and ``promtool test
rules`` must find the alert its band names (``scripts/require promtool``).

    .venv/bin/python bench/drift.py [--per-day 500]
"""

import argparse
import datetime as dt
import subprocess
import tempfile
import time
from pathlib import Path

import in_process  # bench/in_process.py
import report  # bench/report.py: --output

KEYSPACE = "bench_drift"
in_process.setup(keyspace=KEYSPACE)

import numpy as np  # noqa: E402
import yaml  # noqa: E402
from django.conf import settings  # noqa: E402

from recognizer import drift  # noqa: E402
from recognizer.drift_report import table  # noqa: E402
from recognizer.ml import handwriting, mnist  # noqa: E402
from recognizer.ml.runtime import Classifier  # noqa: E402
from recognizer.selectors import drift_days  # noqa: E402
from recognizer.services import prediction_store  # noqa: E402
from recognizer.storage import stats  # noqa: E402

ROOT = in_process.ROOT
START = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)  # the reference week: 23-29 November, then 30 Nov - 6 Dec


def thicker(images: np.ndarray) -> np.ndarray:
    """Strokes one pixel wider on every side (a 3×3 maximum)."""
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)))
    return np.max([padded[:, dy:dy + 28, dx:dx + 28] for dy in range(3) for dx in range(3)], axis=0)


def shifted(images: np.ndarray) -> np.ndarray:
    """Digits 5 px right and 3 px down of MNIST's centre of mass."""
    return np.roll(np.roll(images, 5, axis=2), 3, axis=1)


def weeks(per_day: int) -> list[tuple[str, np.ndarray]]:
    """14 days of (what, images as the model's float input)."""
    images, _ = mnist.load_mnist(mnist.find_data_dir())[1]
    needed = 7 * per_day + 4 * per_day
    assert len(images) >= needed, f"--per-day {per_day}: MNIST's test set has {len(images)} images"
    reference = [("MNIST", mnist.to_unit(images[day * per_day:(day + 1) * per_day])) for day in range(7)]
    rest = images[7 * per_day:]
    other, _ = handwriting.inputs()
    drifted = [("thicker strokes", mnist.to_unit(thicker(rest[:per_day]))),
               ("thicker strokes", mnist.to_unit(thicker(rest[per_day:2 * per_day]))),
               ("shifted", mnist.to_unit(shifted(rest[2 * per_day:3 * per_day]))),
               ("shifted", mnist.to_unit(shifted(rest[3 * per_day:4 * per_day])))]
    drifted += [("non-MNIST", other[day * per_day:(day + 1) * per_day]) for day in range(3)]
    return reference + drifted


def store_days(classifier: Classifier, days: list[tuple[str, np.ndarray]]) -> None:
    for number, (what, inputs) in enumerate(days):
        started = time.monotonic()
        for index, probabilities in enumerate(classifier.predict(inputs)):
            prediction_store(source="api", filename=None, content_type="image/png", image=b"", input_png=b"",
                             probabilities=probabilities, model_version=classifier.version, latency_ms=1.0,
                             created=(START + dt.timedelta(days=number, seconds=10 * index)).timestamp())
        print(f"  {(START + dt.timedelta(days=number)).date()}  {what:<16} {len(inputs)} stored in "
              f"{time.monotonic() - started:.1f} s")
    stats.flush()


def promtool_fires(day: drift.Day) -> str:
    """Run alerts.yml on 90 minutes of ``day``'s gauges; the drift alerts it fires, checked by promtool."""
    rules = yaml.safe_load((ROOT / "deploy/prometheus/alerts.yml").read_text())
    alerts = {rule["alert"]: rule for group in rules["groups"] for rule in group["rules"]}
    worst = max(day.confidence_psi, day.digit_psi)
    firing = [name for name, floor in (("NumberfigureDriftModerate", drift.MODERATE),
                                       ("NumberfigureDriftSignificant", drift.SIGNIFICANT)) if worst > floor]
    gauges = {"confidence_psi": day.confidence_psi, "digit_psi": day.digit_psi, "unsure_share": day.unsure_share,
              "reference_unsure_share": day.reference.unsure_share}
    test = {"rule_files": ["alerts.yml"], "evaluation_interval": "1m", "tests": [{
        "interval": "1m",
        "input_series": [{"series": f'numberfigure_drift_{name}{{model_version="{day.model_version}"}}',
                          "values": f"{value}x90"} for name, value in gauges.items()],
        "alert_rule_test": [{
            "eval_time": "80m", "alertname": name,
            "exp_alerts": [{"exp_labels": {"model_version": day.model_version, **alerts[name]["labels"]},
                            "exp_annotations": {key: text.replace("{{ $labels.model_version }}", day.model_version)
                                                for key, text in alerts[name]["annotations"].items()}}]
            if name in firing else []} for name in ("NumberfigureDriftModerate", "NumberfigureDriftSignificant")],
    }]}
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "alerts.yml").write_text(yaml.safe_dump(rules))
        (Path(folder) / "bench.yml").write_text(yaml.safe_dump(test))
        done = subprocess.run(["promtool", "test", "rules", "bench.yml"], cwd=folder, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return ", ".join(firing) or "none"


@report.writes_output
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-day", type=int, default=500, help="predictions stored a day (default 500)")
    report.add_argument(parser)
    args = parser.parse_args()
    in_process.fresh_keyspace()
    settings.NUMBERFIGURE_DRIFT_MIN_SAMPLE = min(settings.NUMBERFIGURE_DRIFT_MIN_SAMPLE, args.per_day)
    try:
        classifier = Classifier.from_dir(settings.NUMBERFIGURE_MODEL_DIR)
        print(f"Storing 14 days × {args.per_day} predictions of model {classifier.version} in {KEYSPACE}:")
        store_days(classifier, weeks(args.per_day))
        since, until = START.date(), (START + dt.timedelta(days=13)).date()
        for reference, what in (("card", "the model card's held-out validation figures"),
                                ("days", "the model's first 7 days in service")):
            settings.NUMBERFIGURE_DRIFT_REFERENCE = reference
            print(f"\nmanage.py drift --since {since} --until {until}, DRIFT_REFERENCE={reference} ({what}):")
            found = drift_days(since=since, until=until)
            print(table(found))
        last = found[-1]
        print(f"\npromtool test rules on 90 min of {last.day}'s gauges (DRIFT_REFERENCE=days): firing: "
              f"{promtool_fires(last)}")
    finally:
        in_process.drop_keyspace()


if __name__ == "__main__":
    main()
