"""MNIST in its original IDX format: a strict reader, a tiny writer, and the data folder lookup.

Kept free of TensorFlow and Django so it is cheap to test and to reuse: `recognizer.exports` writes
users' corrections as IDX files with `write_idx`, and `to_unit` is the one place pixels become floats.
"""

import gzip
import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

# IDX type codes (third byte of the magic number) and the numpy dtype they store, big-endian.
IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
REPO_DIR = Path(__file__).resolve().parents[2]
NUM_CLASSES = 10  # the digits 0-9

Split = tuple[np.ndarray, np.ndarray]


class MnistError(ValueError):
    """A missing, malformed or inconsistent MNIST file or folder."""


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, gunzipped when it is gzip-compressed (detected by content, not name)."""
    try:
        raw = path.read_bytes()
        return gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    except OSError as exc:  # includes gzip.BadGzipFile
        raise MnistError(f"{path}: cannot read: {exc}") from exc
    except EOFError as exc:
        raise MnistError(f"{path}: truncated gzip stream") from exc


def read_idx(path: str | Path) -> np.ndarray:
    """Read one IDX file (plain or .gz) into an array, rejecting anything that is not exactly IDX."""
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 4 or data[:2] != b"\0\0" or data[2] not in IDX_DTYPES or data[3] == 0:
        raise MnistError(f"{path}: not an IDX file (magic number {data[:4].hex() or 'missing'})")
    ndim, dtype = data[3], np.dtype(IDX_DTYPES[data[2]])
    header = 4 + 4 * ndim
    if len(data) < header:
        raise MnistError(f"{path}: truncated header ({len(data)} bytes, need {header})")
    shape = tuple(int(d) for d in np.frombuffer(data, ">u4", ndim, offset=4))
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(data) != expected:
        problem = "truncated" if len(data) < expected else "has trailing bytes"
        raise MnistError(f"{path}: {problem}: {len(data)} bytes, dimensions {shape} need {expected}")
    return np.frombuffer(data, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def write_idx(path: str | Path, array: np.ndarray) -> None:
    """Write an array as IDX (gzipped when the name ends in .gz); the inverse of read_idx."""
    codes = {np.dtype(v).newbyteorder("="): k for k, v in IDX_DTYPES.items()}
    code = codes.get(array.dtype.newbyteorder("="))
    if code is None:
        raise MnistError(f"{path}: IDX cannot store {array.dtype} values")
    header = bytes([0, 0, code, array.ndim]) + np.array(array.shape, ">u4").tobytes()
    data = header + np.ascontiguousarray(array, IDX_DTYPES[code]).tobytes()
    Path(path).write_bytes(gzip.compress(data) if str(path).endswith(".gz") else data)


def find_data_dir(explicit: str | Path | None = None) -> Path | None:
    """The MNIST folder: the explicit one, else $MNIST_DIR, else <repo>/../shared/mnist if present.

    None means "no local copy": load_mnist then falls back to Keras' downloader.
    """
    if explicit:
        return Path(explicit)
    if os.environ.get("MNIST_DIR"):
        return Path(os.environ["MNIST_DIR"])
    shared = REPO_DIR.parent / "shared" / "mnist"
    return shared if shared.is_dir() else None


def _idx_path(data_dir: Path, name: str) -> Path:
    for candidate in (data_dir / name, data_dir / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    raise MnistError(f"{data_dir}: missing {name} (or {name}.gz)")


def _split(data_dir: Path, prefix: str) -> Split:
    x = read_idx(_idx_path(data_dir, FILES[f"{prefix}_images"]))
    y = read_idx(_idx_path(data_dir, FILES[f"{prefix}_labels"]))
    if x.ndim != 3 or x.shape[1:] != (28, 28) or x.dtype != np.uint8:
        raise MnistError(f"{data_dir}: {prefix} images are {x.dtype} {x.shape}, expected uint8 (N, 28, 28)")
    if y.ndim != 1 or y.dtype != np.uint8 or (y.size and y.max() > 9):
        raise MnistError(f"{data_dir}: {prefix} labels must be uint8 digits 0-9, one per image")
    if len(x) != len(y):
        raise MnistError(f"{data_dir}: {len(x)} {prefix} images but {len(y)} {prefix} labels")
    return x, y


def load_mnist(data_dir: str | Path | None) -> tuple[Split, Split]:
    """((x_train, y_train), (x_test, y_test)) as uint8, images (N, 28, 28) white ink on black.

    With data_dir None, Keras downloads MNIST (needs internet and TensorFlow).
    """
    if data_dir is None:
        import keras

        try:
            return keras.datasets.mnist.load_data()
        except Exception as exc:  # no network, blocked host, corrupt download...
            raise MnistError(f"no MNIST folder given (--data or MNIST_DIR) and downloading failed: {exc}") from exc
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise MnistError(f"{data_dir}: MNIST data folder not found")
    return _split(data_dir, "train"), _split(data_dir, "test")


def data_checksums(data_dir: str | Path | None) -> dict[str, str]:
    """SHA-256 of each IDX file's uncompressed bytes (the canonical ones), to pin the training data."""
    if data_dir is None:
        cached = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "datasets" / "mnist.npz"
        return {cached.name: hashlib.sha256(cached.read_bytes()).hexdigest()} if cached.is_file() else {}
    return {
        name: hashlib.sha256(_read_bytes(_idx_path(Path(data_dir), name))).hexdigest()
        for name in FILES.values()
    }


def to_unit(images: np.ndarray) -> np.ndarray:
    """uint8 images (white ink on black, 0-255) as the float32 values in [0, 1] the network reads."""
    return np.asarray(images, dtype=np.float32) / 255.0


def combine(*sources: Split | None) -> Split:
    """Concatenate (x, y) sources, e.g. MNIST's training split plus users' corrections."""
    parts: Iterable[Split] = [s for s in sources if s is not None and len(s[0])]
    xs, ys = zip(*parts, strict=True)
    for x, y in zip(xs, ys, strict=True):
        if x.shape[1:] != (28, 28) or len(x) != len(y):
            raise MnistError(f"extra source has images {x.shape} and {len(y)} labels, expected (N, 28, 28) and N")
    return np.concatenate(xs).astype(np.uint8), np.concatenate(ys).astype(np.uint8)
