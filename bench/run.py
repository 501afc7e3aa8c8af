"""Run every benchmark: one line per comparison (both throughputs, measured in this run, and their ratio;
ratio > 1 means we are faster), then write ``bench/results.json`` as {NAME: {"ours", "baseline", "ratio", ...}}.

    python bench/run.py            # full run (< 10 minutes)
    python bench/run.py --quick    # smaller inputs, fewer repeats (~1-2 minutes)
    python bench/run.py --only masking sandbox
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
for path in (HERE.parent, HERE):  # the repo root (lm_eval_thinkpack, tests) and bench/ (common, bench_*)
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

# name -> script; each runs in a fresh interpreter (no benchmark inherits another's imports, threads or worker
# processes: forking a process that has imported lm-eval, torch and sympy is slower, which would penalise
# multiprocessing-based baselines), prints its line(s) and saves its record(s) to results.json.
BENCHES = {
    "classify": "bench_classify",
    "harness_overhead": "bench_harness",
    "math_score": "bench_math",
    "sandbox": "bench_sandbox",
    "masking": "bench_masking",
    "code_extract": "bench_extract",
    "token_counting": "bench_tokens",
    "anytask_layer": "bench_anytask",
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smaller inputs and fewer repeats")
    ap.add_argument("--only", nargs="+", choices=sorted(BENCHES), help="run only these benchmarks")
    args = ap.parse_args(argv)

    from common import RESULTS, load

    names = args.only or list(BENCHES)
    print(f"# {'quick' if args.quick else 'full'} run: python {platform.python_version()}, "
          f"{os.cpu_count()} cpus, load {load()}", flush=True)
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    RESULTS.unlink(missing_ok=True)  # each script adds its records; only this run's are kept
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    failed = []
    start = time.perf_counter()
    for name in names:
        t0 = time.perf_counter()
        cmd = [sys.executable, str(HERE / f"{BENCHES[name]}.py"), *(["--quick"] if args.quick else [])]
        proc = subprocess.run(cmd, cwd=HERE.parent, env=env, capture_output=True, text=True)
        print(proc.stdout, end="", flush=True)
        if proc.returncode != 0:
            tail = proc.stderr.strip().splitlines()[-1:] or ["no output"]
            print(f"{name:18s} FAILED (exit {proc.returncode}): {tail[0]}", flush=True)
            failed.append(name)
        print(f"{'':18s} ({time.perf_counter() - t0:.1f} s)", flush=True)

    records = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    if args.only:  # keep the other benchmarks' last figures
        RESULTS.write_text(json.dumps({**previous, **records}, indent=2, sort_keys=True) + "\n")
    print(f"\n{'benchmark':18s} {'ours':>14s} {'baseline':>14s} {'ratio':>8s}  unit")
    for name, r in records.items():
        print(f"{name:18s} {r['ours']:14,.1f} {r['baseline']:14,.1f} {r['ratio']:7.2f}x  {r['unit']}")
    print(f"\nwrote {RESULTS.relative_to(HERE.parent)} in {time.perf_counter() - start:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
