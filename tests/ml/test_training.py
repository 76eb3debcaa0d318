"""`manage.py train` smoke run, the model card, augmentation and `train --load` validation."""

import json
import re

import keras
import numpy as np
import pytest
import tensorflow as tf
from django.core.management import CommandError, call_command

from recognizer.ml import mnist, training
from recognizer.ml.network import build_model
from recognizer.ml.runtime import Classifier

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """Real MNIST digits, few enough to train and evaluate in seconds: 512 training, 500 test images."""
    (x_train, y_train), (x_test, y_test) = mnist.load_mnist(mnist.find_data_dir())
    folder = tmp_path_factory.mktemp("mnist")
    for name, array in (("train_images", x_train[:512]), ("train_labels", y_train[:512]),
                        ("test_images", x_test[:500]), ("test_labels", y_test[:500])):
        mnist.write_idx(folder / f"{mnist.FILES[name]}.gz", array)
    return folder


@pytest.fixture(scope="module")
def trained(data_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("model")
    call_command("train", limit=256, epochs=1, batch_size=64, seed=0, out=str(out), data=str(data_dir))
    return out


def test_train_writes_a_loadable_model_litert_file_card_and_pictures(trained, data_dir):
    assert sorted(p.name for p in trained.iterdir()) == sorted(training.ARTIFACTS)  # no temp folder left
    model = keras.saving.load_model(trained / "model.keras", compile=False)
    assert model.input_shape == (None, 28, 28, 1) and model.output_shape == (None, 10)
    assert getattr(model, "optimizer", None) is None  # saved without optimizer state
    assert (trained / "model.keras").stat().st_size < 14e6
    assert Classifier.from_dir(trained).predict(np.zeros((2, 28, 28), np.float32)).shape == (2, 10)
    for picture in ("training_curves.png", "confusion_matrix.png"):
        assert (trained / picture).read_bytes().startswith(PNG)


def test_the_card_describes_the_run(trained, data_dir):
    card = json.loads((trained / "card.json").read_text())
    assert re.fullmatch(r"\d{4}-\d\d-\d\d-[0-9a-f]{8}", card["version"])
    assert card["files"]["model.tflite"].startswith(card["version"][-8:])
    assert card["data_checksums"] == mnist.data_checksums(data_dir)
    expected_options = {"limit": 256, "epochs": 1, "batch_size": 64, "seed": 0, "augment": True}
    assert card["options"] | expected_options == card["options"]
    assert card["train_images"] == 256 and card["parameters"] == 3_274_634
    assert len(card["history"]["loss"]) == 1 and card["training_seconds"] > 0
    confusion = np.array(card["confusion_matrix"])
    assert confusion.shape == (10, 10) and confusion.sum() == 500
    assert card["test_accuracy"] == pytest.approx(np.trace(confusion) / 500)
    assert card["test_accuracy_litert"] == pytest.approx(card["test_accuracy"], abs=training.LITERT_TOLERANCE)
    assert set(card["per_digit_accuracy"]) == {str(d) for d in range(10)}


def test_seed_makes_training_reproducible(data_dir):
    train_data, test_data = mnist.load_mnist(data_dir)
    options = training.Options(epochs=1, batch_size=64, limit=128, seed=3)
    weights = [training.train(train_data, test_data, options)[0].get_weights() for _ in range(2)]
    for a, b in zip(*weights, strict=True):
        np.testing.assert_array_equal(a, b)


def test_augmentation_keeps_shape_and_range_and_follows_the_seed():
    images = training.to_input(mnist.load_mnist(mnist.find_data_dir())[1][0][:64])
    seed = tf.constant([1, 2], tf.int64)
    out = training.augment(tf.constant(images), seed).numpy()
    assert out.shape == images.shape and out.min() >= 0 and out.max() <= 1
    assert not np.allclose(out, images)
    np.testing.assert_array_equal(out, training.augment(tf.constant(images), seed).numpy())


def test_load_installs_an_existing_model(trained, data_dir, tmp_path):
    call_command("train", load=str(trained / "model.keras"), out=str(tmp_path), data=str(data_dir))
    card = json.loads((tmp_path / "card.json").read_text())
    assert card["source"] == "manage.py train --load model.keras"
    assert card["files"]["model.tflite"] == json.loads((trained / "card.json").read_text())["files"]["model.tflite"]
    assert not (tmp_path / "training_curves.png").exists()  # no training run, no curves


def test_load_replaces_the_current_model_and_drops_its_stale_curves(trained, data_dir):
    before = json.loads((trained / "card.json").read_text())
    call_command("train", load=str(trained / "model.keras"), out=str(trained), data=str(data_dir))
    assert json.loads((trained / "card.json").read_text())["source"].endswith("--load model.keras")
    assert not (trained / "training_curves.png").exists()
    assert json.loads((trained / "card.json").read_text())["test_accuracy"] == before["test_accuracy"]


@pytest.mark.parametrize("content", [b"not a model", b"PK\x03\x04broken zip"])
def test_load_rejects_a_file_that_is_not_a_model(tmp_path, data_dir, content):
    (tmp_path / "model.keras").write_bytes(content)
    with pytest.raises(CommandError, match="not a loadable Keras model"):
        call_command("train", load=str(tmp_path / "model.keras"), out=str(tmp_path / "out"), data=str(data_dir))
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_load_rejects_a_model_of_the_wrong_shape(tmp_path, data_dir):
    wrong = keras.Sequential([keras.Input((32, 32, 1)), keras.layers.Flatten(), keras.layers.Dense(10)])
    wrong.save(tmp_path / "wrong.keras")
    with pytest.raises(CommandError, match=r"expected .*\(None, 28, 28, 1\)"):
        call_command("train", load=str(tmp_path / "wrong.keras"), out=str(tmp_path / "out"), data=str(data_dir))
    twelve = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(12)])
    twelve.save(tmp_path / "twelve.keras")
    with pytest.raises(CommandError, match=r"\(None, 12\)"):
        call_command("train", load=str(tmp_path / "twelve.keras"), out=str(tmp_path / "out"), data=str(data_dir))


def test_load_rejects_a_missing_file(tmp_path, data_dir):
    with pytest.raises(CommandError, match="no such file"):
        call_command("train", load=str(tmp_path / "nope.keras"), out=str(tmp_path / "out"), data=str(data_dir))


def test_train_reports_a_bad_data_folder_clearly(tmp_path):
    (tmp_path / "train-images-idx3-ubyte").write_bytes(b"garbage!")
    with pytest.raises(CommandError, match="not an IDX file"):
        call_command("train", limit=10, epochs=1, out=str(tmp_path / "out"), data=str(tmp_path))


def test_network_has_the_mnist_deep_layers():
    kinds = [(type(layer).__name__, layer.output.shape[1:]) for layer in build_model().layers]
    assert kinds == [
        ("Conv2D", (28, 28, 32)), ("MaxPooling2D", (14, 14, 32)), ("Conv2D", (14, 14, 64)),
        ("MaxPooling2D", (7, 7, 64)), ("Flatten", (3136,)), ("Dense", (1024,)), ("Dropout", (1024,)),
        ("Dense", (10,)),
    ]
