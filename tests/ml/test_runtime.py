"""The serving path: LiteRT predictions equal the Keras model's, without TensorFlow in the process."""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import keras
import numpy as np
import pytest

from recognizer.ml import mnist, runtime
from recognizer.ml.evaluation import LITERT_TOLERANCE
from recognizer.ml.runtime import Classifier

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "mlmodel"


@pytest.fixture(scope="module")
def sample(mnist_test):
    """300 real test images spread over the test set, as the runtime takes them: float32 in [0, 1]."""
    images, labels = mnist_test
    return mnist.to_unit(images[::33]), labels[::33]


@pytest.fixture(scope="module")
def served():
    return Classifier.from_dir(SHIPPED)


@pytest.fixture(scope="module")
def keras_answers(request, mnist_test) -> np.ndarray:
    """The shipped Keras model's probabilities for the MNIST test set, the reference the served file is held
    to. Seconds of CPU, so kept in pytest's cache under a name made of what makes them (the model file, the
    images, Keras' version)."""
    images = mnist.to_unit(mnist_test[0])
    made_from = hashlib.sha256((SHIPPED / "model.keras").read_bytes() + images.tobytes()
                               + keras.__version__.encode()).hexdigest()[:16]
    cache = getattr(request.config, "cache", None)
    kept = cache.mkdir("keras-answers") / f"{made_from}.npy" if cache else None
    if kept and kept.is_file():
        return np.load(kept)
    answers = keras.saving.load_model(SHIPPED / "model.keras", compile=False).predict(
        images[..., None], batch_size=1000, verbose=0)
    if kept:
        np.save(kept, answers)
    return answers


@pytest.mark.slow  # LiteRT over the MNIST test set (and Keras, once for each model file)
def test_litert_predicts_what_the_keras_model_predicts(served, mnist_test, keras_answers):
    """The served file has int8 weights: on all 10,000 test digits it reads what Keras reads but for
    coin flips (one, #726: Keras 0.483 for 7 vs 0.474 for 4), as accurately, with close probabilities."""
    images, labels = mnist.to_unit(mnist_test[0]), mnist_test[1]
    keras_probs = keras_answers
    litert_probs = served.predict(images)
    disagree = np.nonzero(litert_probs.argmax(1) != keras_probs.argmax(1))[0]
    assert len(disagree) <= 2, disagree
    assert all(np.sort(keras_probs[i])[-1] - np.sort(keras_probs[i])[-2] < 0.05 for i in disagree)
    np.testing.assert_allclose(litert_probs, keras_probs, atol=0.05)
    keras_accuracy, litert_accuracy = ((p.argmax(1) == labels).mean() for p in (keras_probs, litert_probs))
    assert abs(litert_accuracy - keras_accuracy) <= LITERT_TOLERANCE


def test_shipped_card_matches_the_shipped_files(served):
    text = (SHIPPED / "card.json").read_text()
    card = json.loads(text)
    assert not re.search(r'"(/|[A-Za-z]:\\\\)', text)  # no path of the machine that trained it
    assert served.version == card["version"]
    assert card["files"]["model.tflite"] == hashlib.sha256((SHIPPED / "model.tflite").read_bytes()).hexdigest()
    assert card["test_accuracy"] >= 0.995 and card["test_accuracy_litert"] >= 0.995
    assert card["options"]["limit"] is None
    assert card["train_images"] + card.get("validation_images", 0) == 60000
    assert card["non_mnist"]["images"] == 1797 and card["non_mnist"]["accuracy_litert"] >= 0.95


def test_any_batch_size_in_any_order(served, sample):
    images = sample[0]
    reference = served.predict(images[:32])
    for n in (1, 32, 3, 1, 0, 7):
        probs = served.predict(images[:n])
        assert probs.shape == (n, 10) and probs.dtype == np.float32
        np.testing.assert_allclose(probs, reference[:n], atol=1e-5)
        np.testing.assert_allclose(probs.sum(axis=1), 1, rtol=1e-5)


def test_rejects_inputs_of_the_wrong_shape(served):
    for shape in [(28, 28), (1, 28, 28, 1), (2, 32, 32)]:
        with pytest.raises(ValueError, match=r"\(N, 28, 28\)"):
            served.predict(np.zeros(shape, np.float32))


def test_threads_predicting_at_once_get_their_own_answers(served, sample):
    images = sample[0]
    expected = served.predict(images)
    results, errors = {}, []

    def work(k):
        try:
            for _ in range(20):
                part = images[k * 10 : k * 10 + 10 + k]
                results[k] = served.predict(part)
                np.testing.assert_allclose(results[k], expected[k * 10 : k * 10 + 10 + k], atol=1e-5)
        except Exception as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_a_file_that_is_not_a_model_fails_at_load(tmp_path):
    (tmp_path / "model.tflite").write_bytes(b"nope")
    with pytest.raises(ValueError):
        Classifier(tmp_path / "model.tflite")


def test_get_classifier_caches_then_reloads_a_new_model(tmp_path, monkeypatch):
    for name in ("model.tflite", "card.json"):
        shutil.copy(SHIPPED / name, tmp_path / name)
    first = runtime.get_classifier(tmp_path)
    assert runtime.get_classifier(tmp_path) is first
    monkeypatch.setattr(runtime, "RELOAD_CHECK_SECONDS", 0.0)
    assert runtime.get_classifier(tmp_path) is first  # nothing changed on disk

    card = json.loads((tmp_path / "card.json").read_text()) | {"version": "next"}
    (tmp_path / "card.json").write_text(json.dumps(card))  # same model file, so its checksum still holds
    os.utime(tmp_path / "card.json", ns=(1, 1))  # a different stamp even within the clock's resolution
    second = runtime.get_classifier(tmp_path)
    assert second is not first and second.version == "next"

    (tmp_path / "model.tflite").unlink()  # an install in progress: keep serving what we have
    assert runtime.get_classifier(tmp_path) is second


def test_a_new_card_is_served_only_with_its_own_model_file(tmp_path, monkeypatch, caplog):
    """An install replaces model.tflite, then card.json: whichever is read in between, the version and
    the weights served always belong together, and the old pair serves until the new one is whole."""
    for name in ("model.tflite", "card.json"):
        shutil.copy(SHIPPED / name, tmp_path / name)
    monkeypatch.setattr(runtime, "RELOAD_CHECK_SECONDS", 0.0)
    old = runtime.get_classifier(tmp_path)
    new_model = (SHIPPED / "model.tflite").read_bytes() + b"\0"  # other bytes: as a retrained file would be
    card = json.loads((tmp_path / "card.json").read_text())
    new_files = card["files"] | {"model.tflite": hashlib.sha256(new_model).hexdigest()}
    new_card = card | {"version": "next", "files": new_files}

    (tmp_path / "card.json").write_text(json.dumps(new_card))  # the card first: its model is not there yet
    assert runtime.get_classifier(tmp_path) is old
    assert "not the model" in caplog.text

    (tmp_path / "model.tflite").write_bytes(new_model)
    os.utime(tmp_path / "model.tflite", ns=(2, 2))
    served = runtime.get_classifier(tmp_path)
    assert served is not old and served.version == "next"


def test_any_error_loading_a_new_model_keeps_the_old_one_serving(tmp_path, monkeypatch, caplog):
    for name in ("model.tflite", "card.json"):
        shutil.copy(SHIPPED / name, tmp_path / name)
    monkeypatch.setattr(runtime, "RELOAD_CHECK_SECONDS", 0.0)
    old = runtime.get_classifier(tmp_path)

    def broken(*args, **kwargs):
        raise RuntimeError("LiteRT could not build the interpreter")

    monkeypatch.setattr(runtime, "Interpreter", broken)
    os.utime(tmp_path / "card.json", ns=(3, 3))
    assert runtime.get_classifier(tmp_path) is old
    assert "LiteRT could not build the interpreter" in caplog.text


def test_the_runtime_module_does_not_import_tensorflow():
    code = "import sys, recognizer.ml.runtime; print(sorted(m for m in sys.modules if m.split('.')[0] in "
    code += "('tensorflow', 'keras', 'django')))"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
