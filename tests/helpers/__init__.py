"""What the tests share besides fixtures (those are in ``tests/conftest.py``): factories and small helpers.

Imported as ``helpers`` (``pythonpath = ["tests"]`` in pyproject.toml); the bigger ones are modules of
this package: ``helpers.servers`` (``make run`` for a test, through ``harness.server``, the starter
the tests share with the benches), ``helpers.faults``
(Cassandra nodes of their own, load and faults), ``helpers.images`` (hostile images),
``helpers.browser`` (the draw page driven like a user).
"""

import base64
import io
import struct
import zlib

from PIL import Image


def peaked(digit: int, top: float = 0.82, rest: float = 0.02) -> list[float]:
    """Ten probabilities that peak at ``digit``: ``top`` there, ``rest`` everywhere else."""
    probabilities = [rest] * 10
    probabilities[digit] = top
    return probabilities


def stored_peaked(digit: int, *, top: float = 0.82, rest: float = 0.02, **fields):
    """A prediction of ``digit`` stored through ``services.prediction_store`` (needs the test keyspace);
    ``fields`` override what it was asked (source, image, input_png, created, …)."""
    from recognizer.services import prediction_store  # the app, once Django is set up

    values = dict(source="upload", filename=None, content_type="image/png", image=b"i", input_png=b"p",
                  probabilities=peaked(digit, top, rest), model_version="v", latency_ms=1.0)
    return prediction_store(**{**values, **fields})


def png_claiming(width: int, height: int) -> bytes:
    """A valid 1×1 PNG whose header (with a correct CRC) claims width×height pixels: a
    decompression bomb by its header."""
    out = io.BytesIO()
    Image.new("L", (1, 1)).save(out, "PNG")
    data = bytearray(out.getvalue())
    header = struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:29] = header
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + header))
    return bytes(data)


def data_url(data: bytes, kind: str = "image/png") -> str:
    """``data`` as a base64 data URL, as the draw page and the old app's clients send it."""
    return f"data:{kind};base64," + base64.b64encode(data).decode()


def stored_rows(keyspace: str, table: str = "predictions_by_bucket") -> int:
    """How many rows ``table`` of ``keyspace`` holds now (the Django process's Cassandra session)."""
    from django.db import connections

    session = connections["cassandra"].connection.session
    return session.execute(f"SELECT COUNT(*) AS rows FROM {keyspace}.{table}").one()["rows"]


def small_mnist(folder, train: int, test: int, suffix: str = ""):
    """``folder`` made an MNIST folder of the first ``train`` training and ``test`` test images of the real
    set (IDX files, ``suffix`` ".gz" to compress them): enough to train a network in seconds."""
    from recognizer.ml import mnist

    (x_train, y_train), (x_test, y_test) = mnist.load_mnist(mnist.find_data_dir())
    folder.mkdir(exist_ok=True)
    for name, array in (("train_images", x_train[:train]), ("train_labels", y_train[:train]),
                        ("test_images", x_test[:test]), ("test_labels", y_test[:test])):
        mnist.write_idx(folder / f"{mnist.FILES[name]}{suffix}", array)
    return folder
