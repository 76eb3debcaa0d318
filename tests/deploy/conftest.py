"""The image's venv, which tests/deploy alone uses: built as the image's builder stage does
(``python -m venv``, then ``pip install -r requirements.txt``), kept as the image's build keeps its layer.

It is kept in pytest's cache (``.pytest_cache``; a temporary folder with ``-p no:cacheprovider``) under a
name made of what it is built from (requirements.txt and the Python): a changed requirements.txt builds
a new one, a fresh checkout builds it. A build takes most of a minute, mostly waiting on the network and
the disk, so once collection shows a test needs it, it is built in the background while the other tests
run, and the tests that need it run last.
"""

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BUILD = pytest.StashKey["VenvBuild"]()


class VenvBuild(threading.Thread):
    """Builds the venv in ``folder`` unless a complete one is there; ``venv()`` waits for it."""

    def __init__(self, folder: Path):
        super().__init__(daemon=True, name="image-venv")
        made_from = hashlib.sha256((REPO / "requirements.txt").read_bytes() + sys.version.encode()).hexdigest()
        self.folder, self.path = folder, folder / made_from[:16]
        self.pip: subprocess.Popen | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.build()
        except BaseException as error:  # noqa: BLE001 - raised again in the test that waits for the venv
            self.error = error

    def build(self) -> None:
        with (self.folder / "lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # another run building it at the same time waits for it
            if (self.path / "built").is_file():
                return
            for stale in self.folder.iterdir():  # a build cut short, from scratch and in place (scripts'
                if stale.is_dir():  # shebangs name the folder); venvs of earlier requirements go too
                    shutil.rmtree(stale)
            subprocess.run([sys.executable, "-m", "venv", str(self.path)], check=True)
            env = {k: v for k, v in os.environ.items()
                   if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PIP_REQUIRE_VIRTUALENV")}
            self.pip = subprocess.Popen([self.path / "bin/python", "-m", "pip", "install", "-q",
                                         "--disable-pip-version-check", "-r", REPO / "requirements.txt"], env=env)
            if self.pip.wait(timeout=900):
                raise subprocess.CalledProcessError(self.pip.returncode, self.pip.args)
            (self.path / "built").touch()

    def venv(self) -> Path:
        self.join()
        if self.error:
            raise self.error
        return self.path


def needs_venv(item: pytest.Item) -> bool:
    return "web_venv" in getattr(item, "fixturenames", ())


def pytest_collection_modifyitems(items):
    """The tests that need the image's venv run last, so that its build overlaps the others."""
    items.sort(key=needs_venv)  # a stable sort: the order is otherwise kept


def pytest_collection_finish(session):
    cache = getattr(session.config, "cache", None)
    if cache and not session.config.option.collectonly and any(needs_venv(item) for item in session.items):
        build = session.config.stash[BUILD] = VenvBuild(cache.mkdir("image-venv"))
        build.start()


def pytest_unconfigure(config):
    build = config.stash.get(BUILD, None)
    if build and build.is_alive() and build.pip and build.pip.poll() is None:
        build.pip.terminate()  # a run cut short: the unfinished venv is built again next time


@pytest.fixture(scope="session")
def web_venv(request, tmp_path_factory) -> Path:
    """The image's venv (see above)."""
    build = request.config.stash.get(BUILD, None)
    if build is None:  # no cache: built here, for this run only
        build = VenvBuild(tmp_path_factory.mktemp("image"))
        build.start()
    return build.venv()
