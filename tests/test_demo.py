"""`make demo` is what a newcomer runs first: it must sync, change data and show the changes
come through. The script checks that itself and exits non-zero when a change is missed."""
from __future__ import annotations

import os
import subprocess
import sys

from tests.tapkit import ROOT, TAP_ENV


def test_the_demo_runs_a_full_and_an_incremental_sync_and_the_changes_come_through(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "demo.py")], cwd=ROOT, capture_output=True,
                            text=True, timeout=300, env={**TAP_ENV, "TAP_ASANA_DEMO_OUT": str(tmp_path)})
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "4/4 new stories came through, 0 others" in result.stdout
    assert "8/8 changed ones came through, 0 others" in result.stdout
    assert {"full.jsonl", "incremental.jsonl", "state.json"} <= set(os.listdir(tmp_path))
