"""The deploy tests share their server helpers (``servers``)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # the test modules import servers
