"""A bench writes its own figures for docs/ (bench/report.py): what it printed, under the command and
the date that produced it, as a file or into a marked block of a page."""

import ast
import datetime as dt
import subprocess
import sys

import pytest

from harness.server import ROOT

pytestmark = pytest.mark.slow  # runs a bench: about 2 s each

BENCH = ROOT / "bench"
QUICK = ["bench/breakdown.py", "--in-process", "--runs", "5", "--rounds", "1"]  # no server, no node, ~2 s
LIBRARIES = {"canvases", "in_process", "report"}  # imported by the benches, print nothing themselves
PAGE = """# A page

Text before.

<!-- bench output: steps -->
figures typed by hand
<!-- end of bench output: steps -->

Text after.
"""


def run(*output: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *QUICK, *output], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_a_bench_writes_what_it_printed_into_the_marked_block_of_a_page(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(PAGE)
    done = run("--output", f"{page}#steps")
    assert done.returncode == 0, done.stderr
    written = page.read_text()
    before, block = written.split("<!-- bench output: steps -->\n")
    block, after = block.split("<!-- end of bench output: steps -->")
    assert (before, after) == ("# A page\n\nText before.\n\n", "\n\nText after.\n")  # the rest as it was
    heading, figures = block.split("\n\n", 1)
    assert heading.startswith(f"`.venv/bin/python {' '.join(QUICK[:-2])}")  # the command as run
    assert f"{dt.datetime.now(dt.UTC):%Y-%m-%d}" in heading and "load average" in heading
    assert figures == f"```text\n{done.stdout.strip()}\n```\n"  # exactly what it printed
    assert "decode" in figures


def test_a_bench_writes_a_file_of_its_own(tmp_path):
    done = run("--output", str(tmp_path / "steps.md"))
    assert done.returncode == 0, done.stderr
    written = (tmp_path / "steps.md").read_text()
    assert written.startswith("`.venv/bin/python bench/breakdown.py --in-process") and done.stdout.strip() in written


def test_a_page_without_the_block_is_refused_before_the_bench_runs(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(PAGE)
    done = run("--output", f"{page}#other")
    assert done.returncode == 2 and "has no block <!-- bench output: other -->" in done.stderr
    assert done.stdout == "" and page.read_text() == PAGE


def test_every_bench_that_prints_figures_can_write_them():
    for script in sorted(BENCH.glob("*.py")):
        if script.stem in LIBRARIES:
            continue
        tree = ast.parse(script.read_text())
        calls = {ast.unparse(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
        decorated = any(ast.unparse(decorator) == "report.writes_output" for node in ast.walk(tree)
                        if isinstance(node, ast.FunctionDef) for decorator in node.decorator_list)
        assert "report.add_argument" in calls, f"{script.name} takes no --output"
        assert decorated or "args.output.write" in calls, f"{script.name} does not write its --output"
