"""No single input takes a worker over 2 s of CPU or 300 MB of memory.

Each hostile image is recognised in a process forked from a worker-like one (budget.py), which reports
its CPU time and peak RSS; `pytest -s` prints the table.
"""

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import PIL
import pytest

CPU_SECONDS, RSS_MB = 2.0, 300
HERE = Path(__file__).resolve().parent
REQUEST = b"png-rgba-40mp.png png-16bit-rgba-40mp.png"  # two 40-megapixel PNGs in one request


def corpus(images, seven: bytes) -> dict[str, bytes]:
    return {
        "scan-bomb.jpg": images.scan_bomb_jpeg(),
        "png-16bit-40mp.png": images.png_16bit_40mp(),
        "png-rgba-40mp.png": images.png_rgba_40mp(),
        "png-16bit-rgba-40mp.png": images.png_16bit_rgba_40mp(),
        "png-palette-40mp.png": images.png_palette_40mp(),
        "png-bilevel-40mp.png": images.png_bilevel_40mp(),
        "jpeg-36mp.jpg": images.big_jpeg(),
        "progressive-jpeg-40mp.jpg": images.progressive_jpeg_40mp(2),
        "progressive-jpeg-40mp-444.jpg": images.progressive_jpeg_40mp(0),
        "webp-40mp.webp": images.webp(7900, 5000),
        "webp-10mp.webp": images.webp(3900, 2560),
        "tiff-36mp.tif": images.tiff_40mp(),
        "gif-1000-frames.gif": images.many_frame_gif(),
        "photocd.webp": images.photocd_webp(seven),
        "photo-40mp-exif.jpg": images.big_photo_with_exif(seven),  # decoded, then re-encoded upright
        "png-40mp-text.png": images.big_png_with_text(seven),  # its text chunk cut out byte for byte
        "seven.png": seven,
    }


@pytest.fixture
def corpus_dir(request, images, seven, tmp_path) -> tuple[Path, list[str]]:
    """The corpus as files, and one request of two 40-megapixel PNGs. Making them takes seconds of CPU, so
    they are kept in pytest's cache under a name made of what makes them (``helpers/images.py``, Pillow's
    version, the drawing): a changed maker makes them again."""
    made_from = hashlib.sha256(Path(images.__file__).read_bytes() + PIL.__version__.encode() + seven).hexdigest()
    cache = getattr(request.config, "cache", None)
    folder = cache.mkdir("budget-corpus") / made_from[:16] if cache else tmp_path / "corpus"
    made = folder.parent / f"{folder.name}.made"  # the names of the files, once they are all written
    if not made.is_file():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        for name, data in {**corpus(images, seven), "two-40mp.request": REQUEST}.items():
            (folder / name).write_bytes(data)
        made.write_text(json.dumps(sorted(path.name for path in folder.iterdir())))
    return folder, json.loads(made.read_text())


@pytest.mark.slow  # forks a worker per hostile image
def test_no_single_input_takes_over_2_s_of_cpu_or_300_mb(corpus_dir):
    corpus_dir, names = corpus_dir
    run = subprocess.run([sys.executable, HERE / "budget.py", corpus_dir, "seven.png"], capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    rows = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    print("\n" + "\n".join(f"{row['input']:26} {row['status']} {row['cpu_s']:6.2f} s CPU {row['rss_mb']:5} MB RSS"
                           for row in rows))
    assert sorted(row["input"] for row in rows) == names and len(names) == 17 + 1  # every input, and the request
    assert all(row["status"] < 500 for row in rows)
    assert {row["input"]: row["status"] for row in rows}["seven.png"] == 200
    singles = [row for row in rows if not row["input"].endswith(".request")]
    assert max(row["cpu_s"] for row in singles) < CPU_SECONDS, singles
    assert max(row["rss_mb"] for row in singles) < RSS_MB, singles
