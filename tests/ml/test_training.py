"""`manage.py train` smoke run, the model card, what train prints, `train --load` and `evaluate_model`."""

import io
import json
import re

import keras
import numpy as np
import pytest
from django.core.management import CommandError, call_command
from helpers import small_mnist

from recognizer import drift
from recognizer.ml import fitting, install, mnist, pipeline
from recognizer.ml.evaluation import LITERT_TOLERANCE
from recognizer.ml.export import to_tflite
from recognizer.ml.network import build_model
from recognizer.ml.progress import Progress
from recognizer.ml.runtime import Classifier

pytestmark = pytest.mark.slow  # trains and evaluates models

PNG = b"\x89PNG\r\n\x1a\n"
SMOKE = dict(limit=256, epochs=2, batch_size=64, seed=0)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """Real MNIST digits, few enough to train and evaluate in seconds: 512 training, 500 test images."""
    return small_mnist(tmp_path_factory.mktemp("mnist"), train=512, test=500, suffix=".gz")


@pytest.fixture(scope="module")
def trained(data_dir, tmp_path_factory):
    """A smoke-trained model folder, and everything `train` printed (not a terminal: lines per epoch)."""
    out, printed = tmp_path_factory.mktemp("model"), io.StringIO()
    call_command("train", **SMOKE, out=str(out), data=str(data_dir), stdout=printed)
    return out, printed.getvalue()


def test_train_writes_a_loadable_model_litert_file_card_and_pictures(trained):
    folder, _ = trained
    assert sorted(p.name for p in folder.iterdir()) == sorted(install.ARTIFACTS)  # no staging folder left
    model = keras.saving.load_model(folder / "model.keras", compile=False)
    assert model.input_shape == (None, 28, 28, 1) and model.output_shape == (None, 10)
    assert getattr(model, "optimizer", None) is None  # saved without optimizer state
    assert all(layer.dtype_policy.name == "float32" for layer in model.layers)  # trained in bfloat16, saved float32
    assert (folder / "model.keras").stat().st_size < 14e6
    assert Classifier.from_dir(folder).predict(np.zeros((2, 28, 28), np.float32)).shape == (2, 10)
    for picture in ("training_curves.png", "confusion_matrix.png"):
        assert (folder / picture).read_bytes().startswith(PNG)


def test_the_card_describes_the_run_without_machine_paths(trained, data_dir):
    folder, _ = trained
    text = (folder / "card.json").read_text()
    card = json.loads(text)
    assert re.fullmatch(r"\d{4}-\d\d-\d\d-[0-9a-f]{8}", card["version"])
    assert card["files"]["model.tflite"].startswith(card["version"][-8:])
    assert card["data_checksums"] == mnist.data_checksums(data_dir)
    assert str(data_dir) not in text and not re.search(r'"(/|[A-Za-z]:\\\\)', text)  # no absolute path
    assert card["options"] | SMOKE | {"augment": True} == card["options"]
    assert (card["train_images"], card["validation_images"]) == (256 - 21, 21)  # 1/12 held out
    assert card["parameters"] == 3_274_634
    assert len(card["history"]["val_accuracy"]) == len(card["history"]["seconds"]) == 2
    assert 0 < sum(card["history"]["seconds"]) <= card["training_seconds"]
    confusion = np.array(card["confusion_matrix"])
    assert confusion.shape == (10, 10) and confusion.sum() == 500
    assert card["test_accuracy"] == pytest.approx(np.trace(confusion) / 500)
    assert card["test_accuracy_litert"] == pytest.approx(card["test_accuracy"], abs=LITERT_TOLERANCE)
    assert set(card["per_digit_accuracy"]) == {str(d) for d in range(10)}
    assert card["non_mnist"]["images"] == 1797 and 0.1 < card["non_mnist"]["accuracy_litert"] <= 1
    assert set(card["non_mnist"]["per_digit_accuracy"]) == {str(d) for d in range(10)}
    reference = card["drift_reference"]  # its answers on the 21 held-out images, in the service's bins
    assert reference["images"] == sum(reference["confidence"]) == sum(reference["digits"]) == 21
    assert reference["confidence_edges"] == list(drift.CONFIDENCE_EDGES) and 0 <= reference["unsure"] <= 21


def test_train_prints_a_line_per_epoch_and_one_summary_without_converter_noise(trained):
    _, printed = trained
    lines = printed.splitlines()
    epochs = [line for line in lines if line.startswith("epoch ")]
    assert len(epochs) == 2 and "about" in epochs[0] and "validation accuracy" in epochs[1]
    assert not any(noise in printed for noise in ("TensorSpec", "Saved artifact", "absl", "\r"))
    assert re.match(r"Installed mnist_deep \d{4}-\d\d-\d\d-[0-9a-f]{8} in ", lines[2])
    assert "MNIST test accuracy" in lines[3] and "non-MNIST handwriting" in lines[4]
    assert re.search(r"trained on 235 images in \d+ s \(2 epochs, \d+ s each\); whole run \d+", lines[5])
    assert len(lines) == 6


def test_conversion_writes_nothing_to_the_terminal(capfd):
    capfd.readouterr()
    to_tflite(build_model())
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")


def test_on_a_terminal_each_epoch_is_a_progress_bar_with_the_time_left():
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    progress = Progress(screen, epochs=3, steps=4)
    progress.on_epoch_begin(0)
    progress._drawn = -1e9  # draw now, whatever the clock says
    progress.on_train_batch_end(1, {"loss": 0.5})
    progress.on_epoch_end(0, {"loss": 0.4, "val_accuracy": 0.9})
    bar, epoch_line = screen.getvalue().split("\r")[1:]
    assert bar.startswith("epoch 1/3 [===============               ]  50%") and " left" in bar
    assert epoch_line.startswith("epoch 1/3: loss 0.4000, validation accuracy 90.00%") and epoch_line.endswith("\n")


def test_seed_makes_training_reproducible(trained, data_dir):
    """Fitting again with the smoke run's seed, on the data `train` fitted on, gives the weights it installed."""
    folder, _ = trained
    train_data, _ = mnist.load_mnist(data_dir)
    fit_data, validation = pipeline.hold_out((train_data[0][:SMOKE["limit"]], train_data[1][:SMOKE["limit"]]))
    again = fitting.fit(fit_data, validation, fitting.Options(**SMOKE)).model.get_weights()
    installed = keras.saving.load_model(folder / "model.keras", compile=False).get_weights()
    for a, b in zip(again, installed, strict=True):
        np.testing.assert_array_equal(a, b)


def test_the_validation_images_are_held_out_of_training():
    images = np.zeros((120, 28, 28), np.uint8)
    images[:, 0, 0] = np.arange(120)  # each image different
    labels = np.arange(120, dtype=np.uint8) % 10
    (fit_x, _), (held_x, _) = pipeline.hold_out((images, labels))
    assert len(held_x) == 10 and len(fit_x) == 110
    seen = {image.tobytes() for image in fit_x}
    assert not any(image.tobytes() in seen for image in held_x)
    np.testing.assert_array_equal(pipeline.hold_out((images, labels))[1][0], held_x)  # the same every run


def test_load_installs_an_existing_model_in_place_of_the_current_one(trained, data_dir, tmp_path):
    """One `train --load` run (an evaluation of the whole test set) over a folder that holds a trained model."""
    folder, _ = trained
    for name in install.ARTIFACTS:
        (tmp_path / name).write_bytes((folder / name).read_bytes())
    before = json.loads((tmp_path / "card.json").read_text())
    call_command("train", load=str(folder / "model.keras"), out=str(tmp_path), data=str(data_dir),
                 stdout=io.StringIO())
    card = json.loads((tmp_path / "card.json").read_text())
    assert card["source"] == "manage.py train --load model.keras"
    assert card["test_accuracy"] == before["test_accuracy"]
    assert card["drift_reference"]["images"] == 43  # 1/12 of the 512 training images, held out
    assert card["files"]["model.tflite"] == before["files"]["model.tflite"]
    assert not (tmp_path / "training_curves.png").exists()  # no training run: the stale curves are gone


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


def test_evaluate_model_confirms_the_card(trained, data_dir):
    folder, _ = trained
    printed = io.StringIO()
    call_command("evaluate_model", model_dir=str(folder), data=str(data_dir), stdout=printed)
    card = json.loads((folder / "card.json").read_text())
    assert f"LiteRT (served)    accuracy {card['test_accuracy_litert']:.2%} (" in printed.getvalue()
    assert f"non-MNIST, served  accuracy {card['non_mnist']['accuracy_litert']:.2%} (" in printed.getvalue()
    assert "the figures match the model card" in printed.getvalue()


def test_evaluate_model_confirms_the_shipped_card():
    printed = io.StringIO()
    call_command("evaluate_model", min_accuracy=0.995, stdout=printed)
    assert "the figures match the model card" in printed.getvalue()


def test_evaluate_model_fails_when_the_card_claims_more(trained, data_dir, tmp_path):
    folder, _ = trained
    for name in install.ARTIFACTS:
        (tmp_path / name).write_bytes((folder / name).read_bytes())
    card = json.loads((tmp_path / "card.json").read_text())
    card["non_mnist"]["accuracy_litert"] = 0.999
    (tmp_path / "card.json").write_text(json.dumps(card))
    with pytest.raises(CommandError, match=r"card does not hold: non_mnist accuracy_litert 99\.90% on the card"):
        call_command("evaluate_model", model_dir=str(tmp_path), data=str(data_dir), stdout=io.StringIO())


def test_network_has_the_mnist_deep_layers():
    kinds = [(type(layer).__name__, layer.output.shape[1:]) for layer in build_model().layers]
    assert kinds == [
        ("Conv2D", (28, 28, 32)), ("MaxPooling2D", (14, 14, 32)), ("Conv2D", (14, 14, 64)),
        ("MaxPooling2D", (7, 7, 64)), ("Flatten", (3136,)), ("Dense", (1024,)), ("Dropout", (1024,)),
        ("Dense", (10,)),
    ]
