"""Drift figures: how one day's predictions of a model version compare with a reference.

Pure arithmetic on counts (no storage, no Django): the counters come from ``storage.drift``, the
reference from the model card (``ml.reference``) or from the model's first days in service.

PSI (population stability index) is sum((actual - expected) * ln(actual / expected)) over the bins'
shares; below 0.1 stable, 0.1-0.25 moderate, above 0.25 significant. A distance, not a test: it does
not grow more alarmed with the sample size the way p-values do. An empty bin would make it infinite,
so shares are floored at ``EMPTY_SHARE``. A day with fewer than the minimum sample says "too few".
"""

import math
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

# Upper edges of the top-probability bins. Fixed, so days and models compare; finer near 1, where
# most answers of a good model lie (half of MNIST's held-out images score above 0.99999).
CONFIDENCE_EDGES = (0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999, 0.9999, 0.99999)
BINS = len(CONFIDENCE_EDGES) + 1
DIGITS = 10
EMPTY_SHARE = 1e-4
MODERATE, SIGNIFICANT = 0.1, 0.25


def confidence_bin(confidence: float) -> int:
    return bisect_right(CONFIDENCE_EDGES, confidence)


def bin_labels() -> list[str]:
    """``<0.5``, ``0.5-0.7`` … ``≥0.99999``: the bins as a chart names them."""
    lower = ("0", *map(str, CONFIDENCE_EDGES))
    upper = (*map(str, CONFIDENCE_EDGES), "1")
    return [f"{low}–{high}" for low, high in zip(lower, upper, strict=True)]


def shares(counts: Sequence[int]) -> list[float]:
    total = sum(counts)
    return [count / total if total else 0.0 for count in counts]


def psi(expected: Sequence[int], actual: Sequence[int]) -> float | None:
    """PSI of ``actual`` counts against ``expected`` counts (same bins); None when either is empty."""
    if not sum(expected) or not sum(actual):
        return None
    return sum((a - e) * math.log(a / e)
               for e, a in zip((max(s, EMPTY_SHARE) for s in shares(expected)),
                               (max(s, EMPTY_SHARE) for s in shares(actual)), strict=True))


def band(value: float | None) -> str:
    if value is None:
        return "none"
    return "significant" if value > SIGNIFICANT else "moderate" if value >= MODERATE else "stable"


@dataclass(frozen=True)
class Reference:
    """What a model's answers looked like when it was known to fit: histogram, digits, unsure share."""

    source: str  # "card" (held-out validation images) or "days" (its first days in service)
    confidence: tuple[int, ...]
    digits: tuple[int, ...]
    unsure_share: float | None
    accuracy: float | None


class Labelled:
    """Figures counted from the predictions people labelled (a day's, or the stats page's)."""

    labelled: int
    labelled_correct: int

    @property
    def accuracy(self) -> float | None:
        """How often the model agreed with the people who labelled its predictions."""
        return self.labelled_correct / self.labelled if self.labelled else None


@dataclass(frozen=True)
class Day(Labelled):
    """One day's figures of one model version, against its reference (None: it has none)."""

    day: str  # ISO date
    model_version: str
    count: int
    unsure: int
    confidence: tuple[int, ...]
    digits: tuple[int, ...]
    labelled: int
    labelled_correct: int
    reference: Reference | None
    min_sample: int

    @property
    def enough(self) -> bool:
        return self.count >= self.min_sample

    @property
    def unsure_share(self) -> float | None:
        return self.unsure / self.count if self.count else None

    @property
    def confidence_psi(self) -> float | None:
        return psi(self.reference.confidence, self.confidence) if self.reference else None

    @property
    def digit_psi(self) -> float | None:
        return psi(self.reference.digits, self.digits) if self.reference else None

    @property
    def status(self) -> str:
        """``too few``, ``no reference``, else the worse band of the two PSIs."""
        if not self.enough:
            return "too few"
        if self.reference is None:
            return "no reference"
        bands = {band(self.confidence_psi), band(self.digit_psi)}
        return next(name for name in ("significant", "moderate", "stable") if name in bands)


def day_of(counters: dict[tuple[str, str], int], *, day: str, model_version: str,
           reference: Reference | None, min_sample: int) -> Day:
    """A ``Day`` from its counters: (figure, value) -> count, as ``storage.drift`` keeps them."""
    return Day(
        day=day, model_version=model_version,
        count=counters.get(("count", "all"), 0) or sum(counters.get(("digit", str(d)), 0) for d in range(DIGITS)),
        unsure=counters.get(("unsure", "all"), 0),
        confidence=tuple(counters.get(("confidence", str(b)), 0) for b in range(BINS)),
        digits=tuple(counters.get(("digit", str(d)), 0) for d in range(DIGITS)),
        labelled=counters.get(("labelled", "all"), 0),
        labelled_correct=counters.get(("labelled_correct", "all"), 0),
        reference=reference, min_sample=min_sample,
    )


def reference_of_days(days: Sequence[Day]) -> Reference | None:
    """The reference made of a model's first days (their counts added up), None if they have none."""
    if not days or not sum(day.count for day in days):
        return None
    count, labelled = sum(d.count for d in days), sum(d.labelled for d in days)
    return Reference(
        source="days",
        confidence=tuple(map(sum, zip(*(d.confidence for d in days), strict=True))),
        digits=tuple(map(sum, zip(*(d.digits for d in days), strict=True))),
        unsure_share=sum(d.unsure for d in days) / count,
        accuracy=sum(d.labelled_correct for d in days) / labelled if labelled else None,
    )


def reference_of_card(card: dict | None) -> Reference | None:
    """The reference a model card holds (``drift_reference``), if made with today's bins."""
    figures = (card or {}).get("drift_reference")
    if not figures or tuple(figures.get("confidence_edges", ())) != CONFIDENCE_EDGES:
        return None
    return Reference(source="card", confidence=tuple(figures["confidence"]), digits=tuple(figures["digits"]),
                     unsure_share=figures["unsure"] / figures["images"], accuracy=figures["accuracy"])


def card_reference(top: Sequence[float], predicted: Sequence[int], labels: Sequence[int], *,
                   unsure_below: float, images: str) -> dict:
    """The ``drift_reference`` entry of a model card: its answers on held-out images (``images``
    names them), counted as the service counts its days."""
    confidence, digits = [0] * BINS, [0] * DIGITS
    for value, digit in zip(top, predicted, strict=True):
        confidence[confidence_bin(float(value))] += 1
        digits[int(digit)] += 1
    return {
        "set": images, "images": len(top), "unsure_below": unsure_below,
        "unsure": sum(1 for value in top if value < unsure_below),
        "accuracy": round(sum(int(p) == int(t) for p, t in zip(predicted, labels, strict=True)) / len(top), 6),
        "confidence_edges": list(CONFIDENCE_EDGES), "confidence": confidence, "digits": digits,
    }
