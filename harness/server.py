"""The app (or anything that serves HTTP: nginx, runserver) started on a free port, waited for until it
answers, and stopped with its whole process group: the one starter of the tests and the benches."""

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# gunicorn with the repository's gunicorn.conf.py, its bind from GUNICORN_BIND
GUNICORN = (sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "numberfigure.wsgi")


def make_run_command(port: int) -> list[str]:
    """`make run` on ``port``: collectstatic, then gunicorn as a person runs the product."""
    return ["make", "--no-print-directory", "run", f"PORT={port}"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def environment(**changes: str | None) -> dict[str, str]:
    """This process's environment with output unbuffered (logs are read while the server runs) and
    ``changes`` made: a value of None removes the variable."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


class NotServing(RuntimeError):
    """The server exited or did not answer in time; the message ends with its log's end."""


def exchange(port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
             timeout: float = 30) -> tuple[int, bytes, float, http.client.HTTPMessage]:
    """(status, body, seconds, response headers) of one request on a new connection."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers={"Host": "127.0.0.1", **(headers or {})})
        answer = connection.getresponse()
        return answer.status, answer.read(), time.perf_counter() - started, answer.headers
    finally:
        connection.close()


def request(port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
            timeout: float = 30) -> tuple[int, bytes, float]:
    """(status, body, seconds) of one request on a new connection."""
    return exchange(port, method, path, body, headers, timeout)[:3]


def processes() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, command line) of every process on the machine."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
                found[int(entry.name)] = (parent, (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode())
            except OSError:
                continue
    return found


@dataclass
class Server:
    """A started server: its process (the leader of a process group of its own), port and log."""

    process: subprocess.Popen
    port: int
    log: Path

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
                timeout: float = 30) -> tuple[int, bytes]:
        """(status, body) of one request on a new connection."""
        return exchange(self.port, method, path, body, headers, timeout)[:2]

    def pids(self, table: dict[int, tuple[int, str]] | None = None) -> list[int]:
        """The gunicorn processes among the process and its descendants: the master and its workers
        (`make run` is make, then gunicorn under it)."""
        table = table or processes()
        found, frontier = [self.process.pid], [self.process.pid]
        while frontier:
            parent = frontier.pop()
            children = [pid for pid, (ppid, _) in table.items() if ppid == parent]
            found += children
            frontier += children
        return [pid for pid in found if pid in table and "gunicorn" in table[pid][1]]

    def workers(self) -> list[int]:
        """The gunicorn processes whose parent is gunicorn too (the master)."""
        table = processes()
        app = self.pids(table)
        return [pid for pid in app if table[pid][0] in app]

    def stop(self, seconds: float = 40) -> None:
        """SIGTERM to the process group (gunicorn's graceful stop), SIGKILL after ``seconds``."""
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def wait(self, path: str, answers: Sequence[int], seconds: float) -> None:
        """Until GET ``path`` answers one of ``answers``; NotServing if the process exits or time runs out."""
        deadline = time.monotonic() + seconds
        while True:
            if self.process.poll() is not None:
                raise NotServing(f"{self.process.args} exited ({self.process.returncode}):\n{self.tail()}")
            if time.monotonic() > deadline:
                raise NotServing(f"no answer to GET {path} on port {self.port} in {seconds:g} s:\n{self.tail()}")
            try:
                if self.request("GET", path, timeout=5)[0] in answers:
                    return
            except OSError:
                pass
            time.sleep(0.3)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""


def start(command: Sequence, *, port: int, log: Path, env: Mapping[str, str] | None = None,
          ready: str = "/healthz", answers: Sequence[int] = (200,), seconds: float = 120,
          cwd: Path = ROOT) -> Server:
    """``command`` (serving on ``port``) in a session of its own with ``env`` (default: ``environment()``),
    its output in ``log``; returned once GET ``ready`` answers one of ``answers``, stopped if it never does."""
    with log.open("wb") as out:  # the children keep their own copy of it
        process = subprocess.Popen(list(command), cwd=cwd, env=dict(env or environment()), stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    server = Server(process, port, log)
    try:
        server.wait(ready, answers, seconds)
    except BaseException:
        server.stop()
        raise
    return server
