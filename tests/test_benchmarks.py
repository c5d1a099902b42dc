"""Every benchmark still runs (at a small scale: this catches breakage, not slowness)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_benchmark_runs_at_a_small_scale(tmp_path):
    done = subprocess.run(  # noqa: S603
        [sys.executable, str(ROOT / "scripts" / "bench.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "BROKEN" not in done.stdout
    assert done.stdout.count("== ") >= 14  # seven benchmarks, started and finished
    assert "delivery page" in done.stdout  # the load test reached its last page
    assert "one-row page" in done.stdout  # and served the bare stack beside it
    assert "scan      warm" in done.stdout  # the network benchmark reached its last scan
