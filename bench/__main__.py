"""Runs every benchmark of ``bench/``, one after the other, each in its own process.

    python -m bench [--quick] [NAME ...]

A benchmark is any module of this folder with a top-level ``def main(argv)``: new ones are
found without a change here. Their progress goes to stderr; their final JSON lines are
printed to stdout. The exit status is non-zero if any benchmark failed or printed no JSON
line.
"""

import argparse
import ast
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
NOT_BENCHMARKS = {"__init__", "__main__", "toolkit"}


def discover():
    """Names of the benchmark modules, sorted: those that define ``main`` at top level.

    The files are parsed, not imported, so a broken benchmark fails in its own run.
    """
    names = []
    for path in sorted(HERE.glob("*.py")):
        if path.stem in NOT_BENCHMARKS or path.stem.startswith("_"):
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        if any(isinstance(node, ast.FunctionDef) and node.name == "main" for node in tree.body):
            names.append(path.stem)
    return names


def run(name, args):
    """Runs ``bench.<name>``; returns its final JSON line parsed, or None if it failed."""
    print(f"[bench] === {name} {' '.join(args)}", file=sys.stderr, flush=True)
    # stderr is inherited (progress shows as it comes); stdout is read for the last line.
    completed = subprocess.run(
        [sys.executable, "-m", f"bench.{name}", *args],
        cwd=HERE.parent,
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    lines = completed.stdout.strip().splitlines()
    for line in lines[:-1]:  # anything a benchmark printed besides its result
        print(line, file=sys.stderr)
    if completed.returncode != 0:
        print(f"[bench] {name} failed with status {completed.returncode}", file=sys.stderr)
        return None
    try:
        result = json.loads(lines[-1]) if lines else None
    except json.JSONDecodeError:
        result = None
    if not isinstance(result, dict):
        print(f"[bench] {name} printed no final JSON line", file=sys.stderr)
        return None
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description="Runs the benchmarks of bench/.")
    parser.add_argument("--quick", action="store_true", help="small sizes, to check that each benchmark works")
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    args = parser.parse_args(argv)
    available = discover()
    unknown = set(args.names) - set(available)
    if unknown:
        parser.error(f"unknown benchmarks: {', '.join(sorted(unknown))} (available: {', '.join(available)})")
    failed = []
    for name in args.names or available:
        result = run(name, ["--quick"] if args.quick else [])
        if result is None:
            failed.append(name)
        else:
            print(json.dumps(result, sort_keys=True), flush=True)
    if failed:
        print(f"[bench] failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
