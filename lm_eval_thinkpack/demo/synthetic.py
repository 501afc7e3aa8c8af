"""Small synthetic reasoning tasks for the demo model.

Every example is a dict ``{"task", "question", "trace", "answer"}``. The trace is a short step-by-step
working that a tiny character-level transformer can learn to write; the answer is a short string that the
model writes after ``</think>\\n\\n``. Generation is deterministic: the same ``(task, n, seed)`` always
yields the same examples, on any platform (``random.Random`` seeded with a string).

Tasks:

- ``add``: add two numbers of 1-3 digits; the trace pads them to the same width and adds column by
  column from the right, carry included (``7+5+0=12``).
- ``reverse``: reverse a word of 3-6 letters; the trace numbers the letters, then lists them backwards.
- ``count``: count how often a letter occurs in a word; the trace keeps a running count per letter.
- ``parity``: is the number of 1s in a bit string even or odd; the trace keeps the running parity.
- ``max``: the largest digit of a digit string (the maximum is uniform over 1-9); the trace keeps the
  running maximum.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

Example = dict[str, str]

_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _add(rng: random.Random) -> Example:
    a = rng.randint(0, 10 ** rng.randint(1, 3) - 1)
    b = rng.randint(0, 10 ** rng.randint(1, 3) - 1)
    width = max(len(str(a)), len(str(b)))
    sa, sb = str(a).zfill(width), str(b).zfill(width)
    lines = [f"{sa}+{sb}"]
    carry = 0
    for da, db in zip(reversed(sa), reversed(sb), strict=True):
        total = int(da) + int(db) + carry
        lines.append(f"{da}+{db}+{carry}={total}")
        carry = total // 10
    return {"question": f"What is {a} + {b}?", "trace": "\n".join(lines), "answer": str(a + b)}


def _reverse(rng: random.Random) -> Example:
    word = "".join(rng.choice(_LETTERS) for _ in range(rng.randint(3, 6)))
    forward = " ".join(f"{i}{c}" for i, c in enumerate(word, 1))
    backward = " ".join(f"{i}{word[i - 1]}" for i in range(len(word), 0, -1))
    return {"question": f"Reverse the word {word}.", "trace": f"{forward}\n{backward}", "answer": word[::-1]}


def _count(rng: random.Random) -> Example:
    alphabet = "abcde"
    word = "".join(rng.choice(alphabet) for _ in range(rng.randint(4, 8)))
    letter = rng.choice(alphabet)
    steps, n = [], 0
    for c in word:
        n += c == letter
        steps.append(f"{c}{n}")
    return {
        "question": f"How many {letter} are in {word}?",
        "trace": " ".join(steps),
        "answer": str(n),
    }


def _parity(rng: random.Random) -> Example:
    bits = "".join(rng.choice("01") for _ in range(rng.randint(4, 8)))
    steps, odd = [], False
    for b in bits:
        odd ^= b == "1"
        steps.append(f"{b}:{'odd' if odd else 'even'}")
    return {
        "question": f"Is the number of 1s in {bits} even or odd?",
        "trace": " ".join(steps),
        "answer": "odd" if odd else "even",
    }


def _max(rng: random.Random) -> Example:
    # draw the maximum first (uniform over 1-9) so that the answer is not mostly "9"
    top = rng.randint(1, 9)
    digits = [rng.choice("0123456789"[: top + 1]) for _ in range(rng.randint(4, 7))]
    digits[rng.randrange(len(digits))] = str(top)
    digits = "".join(digits)
    steps, best = [], -1
    for d in digits:
        best = max(best, int(d))
        steps.append(f"{d}>{best}")
    return {
        "question": f"What is the largest digit in {digits}?",
        "trace": " ".join(steps),
        "answer": str(best),
    }


GENERATORS: dict[str, Callable[[random.Random], Example]] = {
    "add": _add,
    "reverse": _reverse,
    "count": _count,
    "parity": _parity,
    "max": _max,
}
TASKS: tuple[str, ...] = tuple(GENERATORS)

#: Seeds: the base model trains on TRAIN_SEED, the demo fine-tunes on FINETUNE_SEED, the shipped eval sets
#: (``demo/data/<task>.jsonl``) come from EVAL_SEED.
TRAIN_SEED = 0
FINETUNE_SEED = 1
EVAL_SEED = 1234


def generate(task: str, n: int, seed: int = 0) -> list[Example]:
    """``n`` examples of ``task``, deterministic in ``(task, n, seed)``; each carries its task name."""
    if task not in GENERATORS:
        raise KeyError(f"unknown task {task!r}; known: {', '.join(TASKS)}")
    rng = random.Random(f"thinkpack-demo:{task}:{seed}")
    make = GENERATORS[task]
    return [{"task": task, **make(rng)} for _ in range(n)]


def mixture(tasks: list[str] | tuple[str, ...], n_per_task: int, seed: int = 0) -> list[Example]:
    """The examples of several tasks, interleaved in a seeded shuffle."""
    examples = [ex for task in tasks for ex in generate(task, n_per_task, seed)]
    random.Random(f"thinkpack-demo:mix:{seed}").shuffle(examples)
    return examples


def score(task: str, response_answer: str | None, gold: str) -> bool:
    """Exact match after ``strip()``; ``None`` (no answer, e.g. a truncated trace) is wrong."""
    if task not in GENERATORS:
        raise KeyError(f"unknown task {task!r}")
    return response_answer is not None and response_answer.strip() == gold.strip()


def write_eval_sets(directory: str | Path, n: int = 100, seed: int = EVAL_SEED) -> list[Path]:
    """Write ``<directory>/<task>.jsonl`` eval sets (fields ``question``, ``answer``, ``trace``, ``task``)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for task in TASKS:
        path = directory / f"{task}.jsonl"
        rows = generate(task, n, seed)
        path.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in rows))
        paths.append(path)
    return paths


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description="Write the demo eval sets.")
    ap.add_argument("--output", default=str(Path(__file__).parent / "data"))
    ap.add_argument("-n", type=int, default=100)
    args = ap.parse_args()
    for p in write_eval_sets(args.output, args.n):
        print(p)
