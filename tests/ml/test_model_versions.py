"""Model versions: kept, listed, promoted and rolled back in every worker, shown on /models; and a
retraining on deliberately wrong labels is refused, one on labels that fix a weakness promoted."""

import io
import json
import shutil

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from PIL import Image, ImageFilter

from recognizer.ml import mnist, runtime, versions
from recognizer.preprocessing import to_png
from recognizer.selectors import prediction_get
from recognizer.services import prediction_correct, prediction_store


@pytest.fixture
def model_dir(tmp_path, settings, monkeypatch):
    """A model folder serving the shipped model, with a second version of it kept (another card)."""
    folder = tmp_path / "mlmodel"
    folder.mkdir()
    for name in ("model.tflite", "card.json"):
        shutil.copy2(settings.BASE_DIR / "mlmodel" / name, folder / name)
    settings.NUMBERFIGURE_MODEL_DIR = folder
    monkeypatch.setattr(runtime, "RELOAD_CHECK_SECONDS", 0.0)
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy2(folder / "model.tflite", other / "model.tflite")
    card = json.loads((folder / "card.json").read_text())
    (other / "card.json").write_text(json.dumps({**card, "version": "2026-12-07-challenger",
                                                 "created_at": "2026-12-07T08:00:00+00:00"}))
    versions.add(folder, other)
    return folder


def run(*command) -> str:
    out = io.StringIO()
    call_command(*command, stdout=out)
    return out.getvalue()


def test_promote_and_rollback_switch_what_every_worker_serves(model_dir):
    shipped = versions.serving(model_dir)
    assert runtime.get_classifier(model_dir).version == shipped
    listed = run("models")
    assert f"* {shipped}" in listed and "  2026-12-07-challenger" in listed and "MNIST 99.63%" in listed
    assert "Serving 2026-12-07-challenger" in run("promote", "2026-12-07-challenger")
    assert runtime.get_classifier(model_dir).version == "2026-12-07-challenger"  # the hot reload
    assert "* 2026-12-07-challenger" in run("models")
    assert f"Serving {shipped} again" in run("rollback")
    assert runtime.get_classifier(model_dir).version == shipped
    assert [switch["version"] for switch in versions.switches(model_dir)] == ["2026-12-07-challenger", shipped]
    with pytest.raises(CommandError, match="No model version"):
        run("promote", "nope")


def test_a_version_whose_files_were_changed_is_not_promoted(model_dir):
    (model_dir / "versions" / "2026-12-07-challenger" / "model.tflite").write_bytes(b"not a model")
    with pytest.raises(runtime.ModelMismatch):
        versions.promote(model_dir, "2026-12-07-challenger", reason="test")
    assert versions.serving(model_dir) != "2026-12-07-challenger"


@pytest.mark.django_db
def test_the_models_page_shows_the_versions_to_staff(client, django_user_model, model_dir):
    assert client.get("/models").status_code == 302
    client.force_login(django_user_model.objects.create_user("ann", password="pw-ann-123456", is_staff=True))
    page = client.get("/models").content.decode()
    assert page.count('data-testid="model-version"') == 2 and page.count('data-testid="serving"') == 1
    assert "manage.py retrain" in page and "2026-12-07-challenger" in page


def label_predictions(images: np.ndarray, labels: np.ndarray, model_dir) -> None:
    """Each image predicted by the serving model, stored and labelled by staff, oldest first."""
    classifier = runtime.get_classifier(model_dir)
    for image, label in zip(images, labels, strict=True):
        png = to_png(mnist.to_unit(image))
        stored = prediction_store(source="draw", filename=None, content_type="image/png", image=png, input_png=png,
                                  probabilities=classifier.predict(mnist.to_unit(image[None]))[0].tolist(),
                                  model_version=classifier.version, latency_ms=1.0)
        prediction_correct(prediction=prediction_get(prediction_id=stored.id), label=int(label), user="ann")


def thick(images: np.ndarray) -> np.ndarray:
    """Digits as written with a thick marker: every stroke 3 px wider on each side (a 7×7 grey dilation)."""
    return np.stack([np.asarray(Image.fromarray(image).filter(ImageFilter.MaxFilter(7))) for image in images])


@pytest.mark.slow  # fine-tunes and compares two models
@pytest.mark.django_db
def test_a_retraining_on_shuffled_labels_is_refused(cassandra, model_dir, settings, mnist_test):
    shutil.copy2(settings.BASE_DIR / "mlmodel" / "model.keras", model_dir / "model.keras")
    images, labels = mnist_test
    label_predictions(images[:150], np.random.default_rng(0).permutation(labels[:150]), model_dir)
    shipped = versions.serving(model_dir)
    printed = run("retrain", "--epochs", "1", "--mnist-sample", "2000")
    print(printed)  # the test log shows the three comparisons and the reason
    assert "refused" in printed and "newest labelled predictions" in printed
    assert versions.serving(model_dir) == shipped
    assert len(versions.listing(model_dir)) == 3  # the challenger is kept, not served


@pytest.mark.slow  # fine-tunes and compares two models
@pytest.mark.django_db
def test_a_retraining_on_labels_that_fix_a_weakness_is_promoted(cassandra, model_dir, settings, mnist_test):
    """The shipped model misreads about 4 in 10 digits written with a thick marker; 400 of them labelled
    teach the challenger, which must read the newest 80 better and MNIST and non-MNIST no worse."""
    shutil.copy2(settings.BASE_DIR / "mlmodel" / "model.keras", model_dir / "model.keras")
    (train_images, train_labels), _ = mnist.load_mnist(mnist.find_data_dir())
    label_predictions(thick(train_images[-400:]), train_labels[-400:], model_dir)
    images, labels = mnist_test
    unseen = mnist.to_unit(thick(images[:1000]))
    shipped_reads = runtime.get_classifier(model_dir).predict(unseen).argmax(1) == labels[:1000]
    shipped = versions.serving(model_dir)
    printed = run("retrain")
    print(printed)  # the test log shows the three comparisons and the reason
    assert "promoted" in printed
    served = runtime.get_classifier(model_dir)  # the hot reload
    assert served.version != shipped and served.version == versions.serving(model_dir)
    served_reads = served.predict(unseen).argmax(1) == labels[:1000]
    print(f"thick-marker MNIST test digits read right: {served_reads.mean():.1%} (was {shipped_reads.mean():.1%})")
    assert served_reads.mean() > shipped_reads.mean() + 0.05
