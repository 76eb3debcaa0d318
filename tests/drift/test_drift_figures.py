"""The drift figures on hand-built counts: PSI against values worked out by hand, the bands, the
minimum sample, and the reference a model card holds (no Cassandra)."""

import math

import pytest

from recognizer import drift


def test_psi_is_the_sum_of_share_differences_times_their_log_ratio():
    # shares 0.5/0.3/0.2 -> 0.3/0.3/0.4: (-0.2)·ln(0.3/0.5) + 0 + 0.2·ln(0.4/0.2)
    assert drift.psi([50, 30, 20], [30, 30, 40]) == pytest.approx(0.2 * math.log(5 / 3) + 0.2 * math.log(2))
    assert drift.psi([50, 30, 20], [50, 30, 20]) == 0
    assert drift.psi([50, 30, 20], [5, 3, 2]) == pytest.approx(0)  # shares, not counts
    assert drift.psi([0, 0, 0], [1, 2, 3]) is None


def test_an_empty_bin_counts_as_a_tiny_share_not_an_infinite_psi():
    value = drift.psi([50, 50], [100, 0])
    e = drift.EMPTY_SHARE
    assert value == pytest.approx(0.5 * math.log(1 / 0.5) + (e - 0.5) * math.log(e / 0.5))
    assert drift.band(value) == "significant"


def test_the_bands_are_those_of_the_convention():
    assert [drift.band(v) for v in (0.0, 0.099, 0.1, 0.25, 0.2501, None)] == [
        "stable", "stable", "moderate", "moderate", "significant", "none"]


def test_confidence_bins_are_fixed_and_finer_near_one():
    assert [drift.confidence_bin(c) for c in (0.1, 0.5, 0.69, 0.7, 0.95, 0.9995, 0.99999, 1.0)] == [
        0, 1, 1, 2, 5, 7, 9, 9]
    assert drift.BINS == len(drift.bin_labels()) == 10


def reference(**changes) -> drift.Reference:
    return drift.Reference(**{"source": "card", "confidence": (10,) * drift.BINS, "digits": (100,) * drift.DIGITS,
                              "unsure_share": 0.01, "accuracy": 0.99, **changes})


def day(counters: dict, *, min_sample: int = 100, ref: drift.Reference | None = None) -> drift.Day:
    return drift.day_of(counters, day="2026-12-07", model_version="m1", reference=ref or reference(),
                        min_sample=min_sample)


def test_a_day_against_its_reference():
    digits = [40, 10, 20, 20, 20, 20, 20, 20, 20, 10]  # 200: shares 0.2, 0.05, 0.1 × 7, 0.05 against 0.1 each
    counters = {("count", "all"): 200, ("unsure", "all"): 30, ("labelled", "all"): 8, ("labelled_correct", "all"): 6,
                **{("digit", str(d)): n for d, n in enumerate(digits)},
                **{("confidence", str(b)): 20 for b in range(drift.BINS)}}
    found = day(counters)
    assert (found.count, found.unsure_share, found.accuracy) == (200, 0.15, 0.75)
    # 0.1·ln 2 + 2 · (-0.05)·ln 0.5
    assert found.digit_psi == pytest.approx(0.2 * math.log(2))
    assert found.confidence_psi == 0  # the same shares as the reference
    assert found.status == "moderate"


def test_a_day_under_the_minimum_sample_says_too_few_instead_of_alarming():
    counters = {("count", "all"): 99, ("digit", "3"): 99, ("confidence", "0"): 99, ("unsure", "all"): 99}
    found = day(counters)
    assert found.digit_psi > drift.SIGNIFICANT  # the figures are there …
    assert not found.enough and found.status == "too few"  # … but do not alarm
    assert day({**counters, ("count", "all"): 100, ("digit", "3"): 100}).status == "significant"


def test_without_labels_there_is_no_accuracy_and_without_reference_no_psi():
    found = drift.day_of({("count", "all"): 500, ("digit", "1"): 500}, day="2026-12-07", model_version="m1",
                         reference=None, min_sample=100)
    assert found.accuracy is None and found.confidence_psi is None and found.status == "no reference"


def test_a_cards_reference_counts_its_images_as_a_day_is_counted():
    figures = drift.card_reference([0.99995, 0.6, 0.999999], [3, 5, 3], [3, 6, 3], unsure_below=0.7, images="set")
    assert figures["confidence"] == [0, 1, 0, 0, 0, 0, 0, 0, 1, 1]
    assert figures["digits"] == [0, 0, 0, 2, 0, 1, 0, 0, 0, 0]
    assert (figures["unsure"], figures["accuracy"]) == (1, round(2 / 3, 6))
    made = drift.reference_of_card({"drift_reference": figures})
    assert made.unsure_share == pytest.approx(1 / 3) and made.digits[3] == 2
    other_bins = {**figures, "confidence_edges": [0.5, 0.9]}
    assert drift.reference_of_card({"drift_reference": other_bins}) is None  # not comparable
    assert drift.reference_of_card({}) is None


def test_the_first_days_add_up_to_a_reference():
    first = [day({("count", "all"): n, ("digit", "2"): n, ("confidence", "9"): n, ("unsure", "all"): u})
             for n, u in ((300, 3), (100, 5))]
    made = drift.reference_of_days(first)
    assert made.digits[2] == 400 and made.confidence[9] == 400 and made.unsure_share == 8 / 400
    assert made.accuracy is None and drift.reference_of_days([]) is None


def test_the_shipped_models_card_holds_a_reference_made_with_todays_bins():
    from django.conf import settings

    from recognizer.ml import card

    made = drift.reference_of_card(card.read(settings.NUMBERFIGURE_MODEL_DIR))
    assert made is not None and sum(made.confidence) == sum(made.digits) == 5000
