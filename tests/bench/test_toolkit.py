"""The toolkit's pure parts and its /proc readings (behaviour, never timings)."""

import json
import statistics
import subprocess
import sys
import textwrap
import time

import pytest

from bench.__main__ import discover
from bench.toolkit import (
    CpuMeter,
    RssSampler,
    cpu_seconds,
    emit,
    parse_args,
    parse_pgbench_tps,
    parse_pgbench_transactions,
    peak_rss_mb,
    percentiles,
    postgres_backends,
    process_tree,
    rss_mb,
)

ALLOCATED_MB = 120

# A parent process that starts a child holding ALLOCATED_MB of written (so resident) memory;
# the child says "ready" and both wait until the test closes their stdin.
TREE = textwrap.dedent(
    f"""
    import subprocess, sys
    child = subprocess.Popen([sys.executable, "-c", '''
    import sys
    block = b"x" * ({ALLOCATED_MB} * 1024 * 1024)
    print("ready", flush=True)
    sys.stdin.read()
    '''])
    sys.exit(child.wait())
    """
)


def test_percentiles_interpolate_linearly():
    assert percentiles([4, 1, 3, 2], ps=(0, 50, 100)) == {0: 1, 50: 2.5, 100: 4}
    assert percentiles([10, 20], ps=(90,)) == {90: pytest.approx(19)}
    assert percentiles([7]) == {50: 7, 90: 7, 99: 7}


def test_percentiles_match_statistics_inclusive_quantiles():
    samples = [(i * 37) % 101 / 3 for i in range(250)]
    expected = statistics.quantiles(samples, n=100, method="inclusive")
    result = percentiles(samples, ps=range(1, 100))
    assert [result[p] for p in range(1, 100)] == pytest.approx(expected)


def test_percentiles_reject_no_samples_and_bad_ranks():
    with pytest.raises(ValueError):
        percentiles([])
    with pytest.raises(ValueError):
        percentiles([1, 2], ps=(101,))


@pytest.fixture
def process_tree_holding_memory():
    parent = subprocess.Popen([sys.executable, "-c", TREE], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout.readline().strip() == "ready"
        yield parent
    finally:
        parent.stdin.close()  # the child's stdin: it reads EOF and exits, then the parent
        parent.wait(timeout=30)
        parent.stdout.close()


def test_rss_sampler_sees_the_memory_of_descendants(process_tree_holding_memory):
    pid = process_tree_holding_memory.pid
    tree = process_tree(pid)
    assert len(tree) == 2 and tree[0] == pid

    with RssSampler(pid, interval_s=0.01) as sampler:
        pass

    assert sampler.samples >= 2
    assert sampler.peak_mb >= ALLOCATED_MB
    # The memory is the child's, not the parent's: the tree walk found it.
    assert sampler.peak_by_pid_mb[pid] < ALLOCATED_MB / 2
    assert sampler.max_process_mb >= ALLOCATED_MB
    assert rss_mb(pid) >= ALLOCATED_MB
    assert peak_rss_mb(pid) >= ALLOCATED_MB


def test_cpu_seconds_counts_the_process_tree():
    # The child computes until it has used 0.3 s of CPU by its own clock, then waits.
    busy = "import sys, time\nwhile time.process_time() < 0.3: pass\nprint('done', flush=True)\nsys.stdin.read()"
    parent = subprocess.Popen(
        [sys.executable, "-c", f"import subprocess, sys; sys.exit(subprocess.call([sys.executable, '-c', {busy!r}]))"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert parent.stdout.readline().strip() == "done"
        assert cpu_seconds(parent.pid) >= 0.25
    finally:
        parent.stdin.close()
        parent.wait(timeout=30)
        parent.stdout.close()


def test_parse_pgbench_tps():
    output = "number of transactions actually processed: 4031\nlatency average = 3.969 ms\n"
    output += "initial connection time = 12.817 ms\ntps = 2015.613386 (without initial connection time)\n"
    assert parse_pgbench_tps(output) == pytest.approx(2015.613386)
    assert parse_pgbench_transactions(output) == 4031


def test_cpu_meter_counts_a_process_born_during_the_block_and_its_children():
    busy = "import time\nwhile time.process_time() < 0.3: pass"
    with CpuMeter(interval_s=0.02) as meter:
        parent = subprocess.Popen(
            [sys.executable, "-c", f"import subprocess, sys, time; subprocess.call([sys.executable, '-c', {busy!r}]); "
             "sys.stdin.read()"],
            stdin=subprocess.PIPE,
        )  # fmt: skip
        meter.pids.append(parent.pid)
        deadline = time.monotonic() + 60
        try:
            while meter.by_kind_s["processes"] < 0.25 and time.monotonic() < deadline:
                meter.sample()  # the child's CPU, sampled while it runs (it ends at 0.3 s)
        finally:
            parent.stdin.close()
            parent.wait(timeout=30)
    assert meter.by_kind_s["processes"] >= 0.25 and meter.by_kind_s["postgres"] == 0


@pytest.mark.django_db
def test_postgres_backends_finds_the_backend_of_a_connection():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid(), current_database()")
        pid, database = cursor.fetchone()
    assert pid in postgres_backends(database)
    assert pid not in postgres_backends(database + "_autre")


def test_emit_prints_one_sorted_json_line(capsys):
    print("progress")
    emit({"rps": 12.5, "benchmark": "x"})
    last = capsys.readouterr().out.splitlines()[-1]
    assert last == '{"benchmark": "x", "rps": 12.5}'
    assert json.loads(last)["rps"] == 12.5


def test_parse_args_sizes():
    assert parse_args("x", [], full_duration_s=20, quick_duration_s=2).duration == 20
    quick = parse_args("x", ["--quick"], full_duration_s=20, quick_duration_s=2)
    assert quick.quick and quick.duration == 2 and quick.clients == 16
    assert parse_args("x", ["--quick", "--duration", "5", "--clients", "4"]).duration == 5


def test_discovery_finds_modules_with_a_main():
    names = discover()
    assert "http_baseline" in names
    assert not {"toolkit", "__main__", "__init__"} & set(names)
