"""Measures what one input costs a worker: CPU seconds and peak RSS of recognising it.

Run by test_budget.py as `python budget.py DIR GOOD_FILE`: sets Django up, loads the model and
recognises GOOD_FILE as a gunicorn worker does, then recognises each file of DIR (or the files a
`.request` file lists, as one request) in a child forked from that worker-like process, and prints one
JSON line per input with the child's CPU time and peak resident memory (from the worker's own, ~75 MB).
"""

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "numberfigure.settings.test")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import django  # noqa: E402

django.setup()

from recognizer.errors import RecognizerError  # noqa: E402
from recognizer.ml.runtime import get_classifier  # noqa: E402
from recognizer.recognition import ImageUpload, recognize  # noqa: E402


def measure(name: str, uploads: list[ImageUpload]) -> dict:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: one request's recognition, then its answer through the pipe
        os.close(read)
        try:
            answer = {"status": 200, "digit": recognize(uploads)[0].digit}
        except RecognizerError as error:
            answer = {"status": error.status, "message": error.message}
        os.write(write, json.dumps(answer).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        answer = json.loads(pipe.read() or '{"status": 500}')
    _, _, usage = os.wait4(pid, 0)
    return {"input": name, **answer, "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
            "rss_mb": round(usage.ru_maxrss / 1024)}


def main(folder: Path, warm_up: str) -> None:
    get_classifier()  # loaded and run before the fork, as in a worker that has answered before
    recognize([ImageUpload(data=(folder / warm_up).read_bytes())])
    for path in sorted(folder.iterdir()):
        names = path.read_text().split() if path.suffix == ".request" else [path.name]
        uploads = [ImageUpload(data=(folder / name).read_bytes(), filename=name) for name in names]
        print(json.dumps(measure(path.name, uploads)), flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]), warm_up=sys.argv[2])
