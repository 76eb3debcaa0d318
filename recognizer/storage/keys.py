"""The views of the history a prediction is listed in, named by filter keys.

``all`` lists every prediction; ``digit=3``, ``source=draw``, ``digit=3,label=5,source=draw`` …
list those matching each combination of the prediction's digit, corrected label and source, and
``labelled`` every corrected one. A filtered history page reads the one index its key names.
"""

import itertools

ALL = "all"
LABELLED = "labelled"
FILTERS = ("digit", "label", "source")


def filter_key(*, digit: int | None = None, label: int | None = None, source: str | None = None) -> str:
    """The index key of a filter combination (``"digit=3,source=draw"``); ``"all"`` when none."""
    values = {"digit": digit, "label": label, "source": source or None}
    return ",".join(f"{name}={values[name]}" for name in FILTERS if values[name] is not None) or ALL


def filter_keys(*, digit: int, label: int | None, source: str) -> set[str]:
    """Every filtered index a prediction with these values is listed in (``all`` is not one)."""
    values = {"digit": digit, "label": label, "source": source}
    present = [name for name in FILTERS if values[name] is not None]
    keys = {
        filter_key(**{name: values[name] for name in combo})
        for size in range(1, len(present) + 1)
        for combo in itertools.combinations(present, size)
    }
    return keys | ({LABELLED} if label is not None else set())


def keys_of(prediction) -> set[str]:
    """The filtered indexes a stored prediction is listed in now."""
    return filter_keys(digit=prediction.digit, label=prediction.corrected_label, source=prediction.source)


def possible_keys(prediction) -> set[str]:
    """Every filtered index the prediction could be listed in, whatever label it is given."""
    return set().union(*(filter_keys(digit=prediction.digit, label=label, source=prediction.source)
                         for label in (None, *range(10))))
