"""lm-eval's own generative tasks as the tests run them: local records for each task's Hub dataset, and canned
responses of every trace class written in each task's own answer format.

Each task gets five docs; doc ``i`` is answered in class ``CLASSES[i % 5]``:

* valid, right answer after the trace;
* valid, the right answer inside the trace and a wrong one after it (the raw text credits it when a task's regex
  takes the first match: a number read out of the reasoning);
* missing (the answer alone);
* truncated, the right answer inside the unclosed trace (the raw text and lm-eval's ``think_end_token`` credit it;
  the layer never does);
* empty trace, right answer.

``«field»`` in a response is the doc's field (the canned model fills it in: GPQA's gold letter comes from lm-eval's
own shuffle in ``process_docs``). Trace fillers are lower case and hold no digit, comma or True/False, so no task's
extraction reads them and IFEval's lower-case instruction sees only the answer's case.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CLASSES = ("valid", "valid_wrong", "missing", "truncated", "empty")


def responses(good: str, bad: str) -> list[str]:
    return [
        f"<think>\nlet me work it out step by step\n</think>\n\n{good}",
        f"<think>\nfirst guess: {good}\nno wait let me check again\n</think>\n\n{bad}",
        good,
        f"<think>\nlet me see. {good}\nand then more thinking that never ends",
        f"<think>\n\n</think>\n\n{good}",
    ]


@dataclass(frozen=True)
class Spec:
    task: str
    hub: str
    name: str | None
    splits: dict[str, list[dict[str, Any]]]
    good: str
    bad: str
    primary: str  # the metric,pipeline the layer picks by default (first higher_is_better of the first pipeline)
    extra: dict[str, Any] = field(default_factory=dict)

    def canned_lines(self) -> list[dict[str, Any]]:
        return [{"task": self.task, "doc_id": i, "responses": [r], "fill": True}
                for i, r in enumerate(responses(self.good, self.bad))]


def _gsm8k_rows() -> list[dict[str, Any]]:
    rows = []
    for a, b in [(3, 4), (12, 30), (7, 8), (100, 23), (5, 5)]:
        gold = a + b
        rows.append({"question": f"Tom has {a} apples and buys {b} more. How many apples does he have?",
                     "answer": f"Tom has {a} + {b} = <<{a}+{b}={gold}>>{gold} apples.\n#### {gold}",
                     "gold": str(gold), "wrong": str(gold + 1)})
    return rows


def _math_rows() -> list[dict[str, Any]]:
    rows = []
    for a, b in [(2, 3), (4, 9), (1, 1), (6, 7), (10, 5)]:
        gold = a * b
        rows.append({"problem": f"What is ${a} \\times {b}$?", "level": "Level 5", "type": "Algebra",
                     "solution": f"We multiply: ${a} \\times {b} = \\boxed{{{gold}}}$.", "gold": str(gold),
                     "wrong": str(gold + 1)})
    return rows


def _bbh_rows() -> list[dict[str, Any]]:
    exprs = [("not ( True ) and ( True ) is", "False"), ("True and not not ( not False ) is", "True"),
             ("not True or ( False and True ) is", "False"), ("True or not False and False is", "True"),
             ("not not ( not ( False ) ) is", "True")]
    return [{"input": e, "target": t, "not_target": "False" if t == "True" else "True"} for e, t in exprs]


def _gpqa_rows() -> list[dict[str, Any]]:
    rows = []
    for i, (q, right, wrong) in enumerate([("Which particle mediates electromagnetism?", "Photon", "Gluon"),
                                            ("What is the charge of an electron?", "Negative", "Positive"),
                                            ("Which gas is most abundant in air?", "Nitrogen", "Oxygen"),
                                            ("What is the SI unit of force?", "Newton", "Joule"),
                                            ("Which element has symbol Fe?", "Iron", "Lead")]):
        rows.append({"Question": q, "Correct Answer": right, "Incorrect Answer 1": wrong,
                     "Incorrect Answer 2": f"{wrong} prime", "Incorrect Answer 3": f"Not {right}",
                     "Record ID": f"rec{i}"})
    return rows


def _mmlu_pro_rows() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    def row(i: int, split: str) -> dict[str, Any]:
        gold = "ABCDE"[i % 5]
        return {"question_id": i + (100 if split == "validation" else 0), "question": f"What is {i} plus {i}?",
                "options": [f"{i + i + k - 'ABCDE'.index(gold)}" for k in range(6)], "answer": gold,
                "answer_index": "ABCDE".index(gold), "cot_content": f"A: Let's think step by step. The answer is "
                f"({gold}).", "category": "math", "src": "local"}
    return [row(i, "test") for i in range(5)], [row(i, "validation") for i in range(5)]


def _ifeval_rows() -> list[dict[str, Any]]:
    return [{"key": 1000 + i, "prompt": f"Write a short note about topic {i}. Your entire response should be in "
             "English, and in all lowercase letters.", "instruction_id_list": ["change_case:english_lowercase"],
             "kwargs": [{"num_words": None}]} for i in range(5)]


def _code2text_rows() -> list[dict[str, Any]]:
    funcs = [("def fact ( n ) : return 1 if n < 2 else n * fact ( n - 1 )", "Compute the factorial recursively ."),
             ("def area ( r ) : return 3.14 * r * r", "Area of a circle from its radius ."),
             ("def rev ( s ) : return s [ : : - 1 ]", "Reverse a string ."),
             ("def avg ( xs ) : return sum ( xs ) / len ( xs )", "Arithmetic mean of a list ."),
             ("def sq ( x ) : return x * x", "Square a number .")]
    return [{"code_tokens": code.split(), "docstring_tokens": doc.split(), "docstring": doc} for code, doc in funcs]


MMLU_TEST, MMLU_VAL = _mmlu_pro_rows()
CODE2TEXT = _code2text_rows()

SPECS: tuple[Spec, ...] = (
    Spec("gsm8k", "openai/gsm8k", "main", {"test": _gsm8k_rows(), "train": _gsm8k_rows()},
         "#### «gold»", "#### «wrong»", "exact_match,answer/strict-match"),
    Spec("gsm8k_cot_zeroshot", "openai/gsm8k", "main", {"test": _gsm8k_rows(), "train": _gsm8k_rows()},
         "The answer is «gold».", "The answer is «wrong».", "exact_match,answer/strict-match"),
    Spec("hendrycks_math_algebra", "EleutherAI/hendrycks_math", "algebra",
         {"test": _math_rows(), "train": _math_rows()}, "$«gold»$", "$«wrong»$", "exact_match,answer/none"),
    Spec("bbh_cot_zeroshot_boolean_expressions", "SaylorTwift/bbh", "boolean_expressions", {"test": _bbh_rows()},
         "So the answer is «target».", "So the answer is «not_target».", "exact_match,answer/flexible-extract"),
    Spec("gpqa_main_cot_zeroshot", "Idavidrein/gpqa", "gpqa_main", {"train": _gpqa_rows()},
         "The answer is «answer».", "The answer is (Z).", "exact_match,answer/strict-match"),
    Spec("mmlu_pro_math", "TIGER-Lab/MMLU-Pro", None, {"test": MMLU_TEST, "validation": MMLU_VAL},
         "The answer is («answer»).", "The answer is (J).", "exact_match,answer/custom-extract"),
    Spec("ifeval", "google/IFEval", None, {"train": _ifeval_rows()},
         "all lower case here", "Not Lower Case", "prompt_level_strict_acc,answer/none"),
    Spec("leaderboard_ifeval", "wis-k/instruction-following-eval", None, {"train": _ifeval_rows()},
         "all lower case here", "Not Lower Case", "prompt_level_strict_acc,answer/none"),
    # lm-eval's one code task that runs offline (humaneval / mbpp load HF evaluate's code_eval from the Hub): code
    # to docstring, scored by a graded metric (smoothed BLEU-4, 0-100), so Rpass@1 is its mean over valid traces
    Spec("code2text_python", "CM/codexglue_code2text_python", None,
         {"train": CODE2TEXT, "validation": CODE2TEXT, "test": CODE2TEXT},
         "«docstring»", "Unrelated gibberish output", "smoothed_bleu_4,answer/none"),
)
BY_TASK = {s.task: s for s in SPECS}


def write_canned(path: Path, lines: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    return path
