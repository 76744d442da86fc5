"""Every benchmark runs at quick size and prints its figures (a check that it works, not a
measurement: no timing is asserted)."""

import json
import subprocess
import sys

import pytest

from bench.__main__ import discover
from bench.toolkit import ROOT

# The figures each benchmark must report, as positive numbers (see bench/README.md).
FIGURES = {
    "clearing": {"close_s", "reference_s", "ratio", "pdf_s", "pdf_ratio", "peak_rss_mb"},
    "dashboard": {"p95_ms", "api_p95_ms", "queries", "sql_ms", "ratio"},
    "export": {"rows", "seconds", "copy_s", "ratio", "peak_rss_mb"},
    "http_baseline": {"rps", "p50_ms", "p99_ms", "pgbench_tps", "ratio", "peak_rss_mb"},
    "print_run": {"ratio", "peak_rss_mb"},
    "redemption": {"p99_ms", "ratio", "cpu_ms_per_redemption", "cpu_ms_per_pgbench_tx", "cpu_ratio"},
}


@pytest.mark.slow
def test_every_benchmark_runs_at_quick_size():
    completed = subprocess.run(
        [sys.executable, "-m", "bench", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-5000:]

    results = {}
    for line in completed.stdout.splitlines():
        result = json.loads(line)
        results[result["benchmark"]] = result
    assert set(results) == set(discover())

    for name, result in results.items():
        assert result["quick"] is True
        for key in FIGURES.get(name, {"ratio"}):
            value = result[key]
            assert isinstance(value, int | float) and not isinstance(value, bool), (name, key, value)
            assert value > 0, (name, key, value)


@pytest.mark.slow
def test_the_dashboard_benchmark_runs_at_quick_size_with_a_fixed_number_of_queries():
    """The dashboard alone (a quicker check while working on reports): its figures, and the page's
    query count within its target — a count, not a timing."""
    completed = subprocess.run(
        [sys.executable, "-m", "bench.dashboard", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-5000:]
    result = json.loads(completed.stdout.splitlines()[-1])
    assert result["benchmark"] == "dashboard" and result["quick"] is True
    assert result["redemptions"] == 10_000 and result["hand_overs"] == 1_000
    for key in FIGURES["dashboard"]:
        assert result[key] > 0, (key, result)
    assert result["queries"] <= 20 and result["api_queries"] <= 20, result
