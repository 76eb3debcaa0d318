"""The IDX reader on the real MNIST files and on corrupted copies made here."""

import gzip
import hashlib

import numpy as np
import pytest

from recognizer.ml import mnist
from recognizer.ml.mnist import MnistError, read_idx, write_idx


@pytest.fixture(scope="module")
def real_dir():
    data_dir = mnist.find_data_dir()
    assert data_dir is not None, "MNIST IDX files not found: set MNIST_DIR"
    return data_dir


def small_mnist(folder, n_train=20, n_test=10, suffix=""):
    """A tiny but valid MNIST folder (uncompressed unless suffix='.gz')."""
    rng = np.random.default_rng(0)
    folder.mkdir(exist_ok=True)
    for split, n in (("train", n_train), ("test", n_test)):
        write_idx(folder / f"{mnist.FILES[f'{split}_images']}{suffix}", rng.integers(0, 256, (n, 28, 28), np.uint8))
        write_idx(folder / f"{mnist.FILES[f'{split}_labels']}{suffix}", rng.integers(0, 10, n, np.uint8))
    return folder


def test_reads_the_real_gzipped_files(real_dir):
    (x_train, y_train), (x_test, y_test) = mnist.load_mnist(real_dir)
    assert x_train.shape == (60000, 28, 28) and y_train.shape == (60000,)
    assert x_test.shape == (10000, 28, 28) and y_test.shape == (10000,)
    assert x_train.dtype == np.uint8 and x_train.max() == 255 and x_train.min() == 0
    assert np.bincount(y_test).tolist()[:3] == [980, 1135, 1032]  # the documented test-set counts


def test_checksums_are_those_of_the_uncompressed_files(real_dir):
    published = dict(line.split()[::-1] for line in (real_dir / "SHA256SUMS.uncompressed").read_text().splitlines())
    assert mnist.data_checksums(real_dir) == published


def test_plain_files_read_like_gzipped_ones(tmp_path, real_dir):
    labels = read_idx(real_dir / "t10k-labels-idx1-ubyte.gz")
    (tmp_path / "plain").write_bytes(gzip.decompress((real_dir / "t10k-labels-idx1-ubyte.gz").read_bytes()))
    np.testing.assert_array_equal(read_idx(tmp_path / "plain"), labels)


@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize(
    "array",
    [np.arange(24, dtype=np.uint8).reshape(2, 3, 4), np.array([-1, 7], np.int32), np.zeros((0, 28, 28), np.uint8)],
)
def test_write_idx_round_trips(tmp_path, suffix, array):
    write_idx(tmp_path / f"a{suffix}", array)
    result = read_idx(tmp_path / f"a{suffix}")
    assert result.dtype == array.dtype
    np.testing.assert_array_equal(result, array)


def test_write_idx_refuses_types_idx_cannot_hold(tmp_path):
    with pytest.raises(MnistError, match="cannot store int64"):
        write_idx(tmp_path / "a", np.array([1, 2], np.int64))


def test_loads_a_folder_of_uncompressed_files(tmp_path):
    (x_train, y_train), (x_test, _) = mnist.load_mnist(small_mnist(tmp_path / "m"))
    assert x_train.shape == (20, 28, 28) and y_train.shape == (20,) and x_test.shape == (10, 28, 28)


def header(ndim_code=3, dims=(2, 28, 28)):
    return bytes([0, 0, 0x08, ndim_code]) + np.array(dims, ">u4").tobytes()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "not an IDX file"),
        (b"\x00\x00\x08", "not an IDX file"),
        (b"PK\x03\x04" + bytes(100), "not an IDX file"),  # a zip, e.g. a .keras file
        (bytes([0, 0, 0x07, 1, 0, 0, 0, 1, 5]), "not an IDX file"),  # unknown type code
        (bytes([0, 0, 0x08, 3, 0, 0]), "truncated header"),
        (header() + bytes(2 * 28 * 28 - 1), "truncated"),
        (header() + bytes(2 * 28 * 28 + 5), "trailing bytes"),
    ],
)
def test_rejects_malformed_files(tmp_path, content, message):
    (tmp_path / "bad").write_bytes(content)
    with pytest.raises(MnistError, match=message):
        read_idx(tmp_path / "bad")


def test_rejects_a_truncated_gzip_stream(tmp_path):
    data = gzip.compress(header() + bytes(2 * 28 * 28))
    (tmp_path / "bad.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(MnistError, match="truncated"):
        read_idx(tmp_path / "bad.gz")


def test_rejects_label_and_image_counts_that_disagree(tmp_path):
    folder = small_mnist(tmp_path / "m")
    write_idx(folder / mnist.FILES["test_labels"], np.zeros(9, np.uint8))
    with pytest.raises(MnistError, match="10 test images but 9 test labels"):
        mnist.load_mnist(folder)


def test_rejects_images_of_the_wrong_size_and_labels_out_of_range(tmp_path):
    folder = small_mnist(tmp_path / "m")
    write_idx(folder / mnist.FILES["train_images"], np.zeros((20, 27, 28), np.uint8))
    with pytest.raises(MnistError, match=r"expected uint8 \(N, 28, 28\)"):
        mnist.load_mnist(folder)
    folder = small_mnist(tmp_path / "n")
    write_idx(folder / mnist.FILES["train_labels"], np.full(20, 10, np.uint8))
    with pytest.raises(MnistError, match="digits 0-9"):
        mnist.load_mnist(folder)


def test_reports_missing_files_and_folders(tmp_path):
    folder = small_mnist(tmp_path / "m")
    (folder / mnist.FILES["test_labels"]).unlink()
    with pytest.raises(MnistError, match="missing t10k-labels-idx1-ubyte"):
        mnist.load_mnist(folder)
    with pytest.raises(MnistError, match="not found"):
        mnist.load_mnist(tmp_path / "nowhere")


def test_find_data_dir_prefers_explicit_then_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_DIR", str(tmp_path / "env"))
    assert mnist.find_data_dir(tmp_path / "given") == tmp_path / "given"
    assert mnist.find_data_dir() == tmp_path / "env"
    monkeypatch.delenv("MNIST_DIR")
    shared = mnist.REPO_DIR.parent / "shared" / "mnist"
    assert mnist.find_data_dir() == (shared if shared.is_dir() else None)


def test_combine_appends_extra_examples():
    base = (np.zeros((3, 28, 28), np.uint8), np.array([1, 2, 3], np.uint8))
    extra = (np.ones((2, 28, 28), np.uint8), np.array([7, 7], np.uint8))
    x, y = mnist.combine(base, None, extra)
    assert x.shape == (5, 28, 28) and y.tolist() == [1, 2, 3, 7, 7]
    with pytest.raises(MnistError, match="extra source"):
        mnist.combine(base, (np.ones((2, 28, 28), np.uint8), np.array([7], np.uint8)))


def test_checksum_is_of_the_decompressed_bytes(tmp_path):
    folder = small_mnist(tmp_path / "m", suffix=".gz")
    name = mnist.FILES["train_labels"]
    expected = hashlib.sha256(gzip.decompress((folder / f"{name}.gz").read_bytes())).hexdigest()
    assert mnist.data_checksums(folder)[name] == expected
