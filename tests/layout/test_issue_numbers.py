"""No issue numbers in code, tests, settings or scripts: they mean nothing to a reader of the tree
(docs/architecture.md and docs/decisions/ say why things are as they are)."""

import re
import subprocess

from harness.server import ROOT

ISSUE_NUMBER = re.compile(r"\b(issues?|tickets?)\s*#?\d+\b", re.IGNORECASE)  # the word, then a number
CODE = ("*.py", "*.sh", "*.js", "*.html", "*.toml", "*.cfg", "*.yml", "*.yaml", "Makefile", "Dockerfile",
        ".ci/run", "scripts/*")


def test_no_issue_numbers_in_the_code():
    tracked = subprocess.run(["git", "ls-files", "--", *CODE], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    found = [f"{name}:{number}: {line.strip()}" for name in tracked if (ROOT / name).is_file()
             for number, line in enumerate((ROOT / name).read_text(errors="replace").splitlines(), 1)
             if ISSUE_NUMBER.search(line)]
    assert len(tracked) > 100 and not found, "\n".join(found)
