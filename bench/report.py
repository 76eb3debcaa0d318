"""A bench's figures kept for docs/, with the command and the date that produced them.

Every bench that prints figures takes ``--output FILE`` (``add_argument``, and ``@writes_output`` on its
``main``): what it printed (bench/api.py: its Markdown table, through ``Output.write``) is written to FILE
under a line naming the command, the date and the machine's load.
``--output FILE#NAME`` writes it into a page instead: between the lines ``<!-- bench output: NAME -->``
and ``<!-- end of bench output: NAME -->`` of FILE, which must be there (checked before the bench runs),
leaving the rest of the page as it was.
"""

import argparse
import contextlib
import functools
import io
import os
import re
import shlex
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def add_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", metavar="FILE[#NAME]", type=Output,
                        help="also write the figures to FILE (or into its block NAME) as Markdown, "
                             "with the command and the date")


def markers(name: str) -> tuple[str, str]:
    return f"<!-- bench output: {name} -->", f"<!-- end of bench output: {name} -->"


class Output:
    """Where ``--output`` writes, and the command, date and load average it names (taken as the bench starts)."""

    def __init__(self, target: str) -> None:
        path, _, self.block = target.partition("#")
        self.path = Path(path)
        if self.block:
            begin, end = markers(self.block)
            page = self.path.read_text() if self.path.is_file() else ""
            if begin not in page or end not in page.partition(begin)[2]:
                raise argparse.ArgumentTypeError(f"{self.path} has no block {begin} … {end}")
        script = Path(sys.argv[0]).resolve()
        script = script.relative_to(ROOT) if script.is_relative_to(ROOT) else script
        self.command = shlex.join([".venv/bin/python", str(script), *sys.argv[1:]])
        self.started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        self.load_before = os.getloadavg()[0]

    def write(self, markdown: str, note: str = "") -> None:
        """``markdown`` under the line that says how it was made: into the block, or as the whole file."""
        made = (f"`{self.command}`, {self.started}{f', {note}' if note else ''}, load average "
                f"{self.load_before:.1f} before and {os.getloadavg()[0]:.1f} after (1 min):\n\n{markdown.strip()}\n")
        if not self.block:
            self.path.write_text(made)
            return
        begin, end = markers(self.block)
        page = self.path.read_text()
        before, _, rest = page.partition(begin)
        after = rest.partition(end)[2]
        self.path.write_text(f"{before}{begin}\n{made}{end}{after}")


class _Both(io.TextIOBase):
    """stdout that also keeps what it is given."""

    def __init__(self, out) -> None:
        self.out, self.kept = out, io.StringIO()

    def write(self, text: str) -> int:
        self.kept.write(text)
        return self.out.write(text)

    def flush(self) -> None:
        self.out.flush()


def writes_output(main: Callable[[], None]) -> Callable[[], None]:
    """A bench's ``main``, with what it prints also written to its ``--output`` as a text block once it
    ends without an error."""

    @functools.wraps(main)
    def run() -> None:
        parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
        add_argument(parser)
        output = parser.parse_known_args()[0].output
        if output is None:
            return main()
        both = _Both(sys.stdout)
        with contextlib.redirect_stdout(both):
            main()
        text = re.sub(r"\n{3,}", "\n\n", both.kept.getvalue().strip("\n"))
        output.write(f"```text\n{text}\n```")

    return run
