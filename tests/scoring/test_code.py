"""Code answers: extraction, program building and checking through the sandbox API."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import types
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lm_eval_thinkpack
from lm_eval_thinkpack import sandbox as real_sandbox
from lm_eval_thinkpack.scoring import ScoreResult, build_program, check_code, check_code_many, extract_code

HE_PROMPT = '''from typing import List


def has_close_elements(numbers: List[float], threshold: float) -> bool:
    """ Check if in given list of numbers, are any two numbers closer to each other than threshold."""
'''
HE_BODY = """    for i, a in enumerate(numbers):
        for j, b in enumerate(numbers):
            if i != j and abs(a - b) < threshold:
                return True
    return False
"""
HE_FULL = "def has_close_elements(numbers: List[float], threshold: float) -> bool:\n" + HE_BODY
HE_TEST = """

METADATA = {}


def check(candidate):
    assert candidate([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.3) == True
    assert candidate([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.05) == False
    assert candidate([1.0, 2.0, 5.9, 4.0, 5.0], 0.95) == True
"""
MBPP_TEST = ["assert add(1, 2) == 3", "assert add(-1, 1) == 0"]


# ---------------------------------------------------------------------------------------------- extract

EXTRACT_CASES = [
    ("Here:\n```python\ndef f():\n    return 1\n```\nDone.", None, "def f():\n    return 1"),
    ("```py\nx = 1\n```\n```python\ny = 2\n```", None, "y = 2"),
    # with an entry point, the last block that defines it wins, even if a later block is a usage example
    (
        "```python\ndef add(a, b):\n    return a + b\n```\nUsage:\n```python\nprint(add(1, 2))\n```",
        "add",
        "def add(a, b):\n    return a + b",
    ),
    # an earlier draft and a final version: the final one
    (
        "```python\ndef add(a, b):\n    return a - b\n```\nOops, fixed:\n"
        "```python\ndef add(a, b):\n    return a + b\n```",
        "add",
        "def add(a, b):\n    return a + b",
    ),
    # a non-python-tagged block that defines the entry point beats a python block that does not
    (
        "```python\nprint(1)\n```\n```text\ndef add(a, b):\n    return a + b\n```",
        "add",
        "def add(a, b):\n    return a + b",
    ),
    # no block defines the entry point: the last python block
    ("```python\nprint(1)\n```", "add", "print(1)"),
    # only a non-python block
    ("```bash\nls -la\n```", None, "ls -la"),
    # untagged block
    ("```\ndef g(): pass\n```", "g", "def g(): pass"),
    # unterminated final fence (truncated generation)
    ("Sure!\n```python\ndef add(a, b):\n    return a + b", "add", "def add(a, b):\n    return a + b"),
    # entry point assigned rather than defined
    ("```python\nadd = lambda a, b: a + b\n```", "add", "add = lambda a, b: a + b"),
    # class entry point, async def
    ("```python\nclass Stack:\n    pass\n```", "Stack", "class Stack:\n    pass"),
    ("```python\nasync def run():\n    pass\n```", "run", "async def run():\n    pass"),
    # raw code without fences
    ("def add(a, b):\n    return a + b\n", "add", "def add(a, b):\n    return a + b"),
    (
        "import math\n\ndef area(r):\n    return math.pi * r * r",
        None,
        "import math\n\ndef area(r):\n    return math.pi * r * r",
    ),
    # prose is not code; neither is a bare function body
    ("I think the answer is to loop over the list.", None, None),
    ("    return a + b\n", "add", None),
    ("def broken(:\n", None, None),
    ("", None, None),
    (None, None, None),
    ("```python```", None, None),
]


@pytest.mark.parametrize(("text", "entry_point", "expected"), EXTRACT_CASES)
def test_extract_code(text, entry_point, expected):
    assert extract_code(text, entry_point) == expected


def test_extract_code_name_boundary():
    text = "```python\ndef add_one(x):\n    return x + 1\n```\n```python\nprint(2)\n```"
    # "add_one" does not define "add": falls back to the last python block
    assert extract_code(text, "add") == "print(2)"


@pytest.mark.parametrize("entry_point", ["1abc", "a b", ""])
def test_extract_code_bad_entry_point(entry_point):
    with pytest.raises(ValueError):
        extract_code("x", entry_point)


def test_extract_code_type_errors():
    with pytest.raises(TypeError):
        extract_code(b"def f(): pass")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        extract_code("x", 3)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------- build


def _run(program: str) -> int:
    """Run a program in a plain subprocess (test helper; the real checks use the sandbox)."""
    proc = subprocess.run([sys.executable, "-c", program], capture_output=True, timeout=60)
    return proc.returncode


def test_build_humaneval_full_function_gets_prompt_imports():
    program = build_program(HE_FULL, HE_TEST, "has_close_elements", prompt=HE_PROMPT)
    assert program.startswith("from typing import List\n")
    assert program.rstrip().endswith("check(has_close_elements)")
    assert program.count("def has_close_elements") == 1
    assert _run(program) == 0


def test_build_humaneval_body_completion_continues_prompt():
    program = build_program(HE_BODY, HE_TEST, "has_close_elements", prompt=HE_PROMPT)
    assert program.startswith(HE_PROMPT)
    assert _run(program) == 0


def test_build_humaneval_wrong_code_fails():
    wrong = HE_FULL.replace("< threshold", "> threshold")
    assert _run(build_program(wrong, HE_TEST, "has_close_elements", prompt=HE_PROMPT)) != 0


def test_build_without_prompt():
    program = build_program("def add(a, b):\n    return a + b", MBPP_TEST, "add")
    assert program == "def add(a, b):\n    return a + b\n\n\nassert add(1, 2) == 3\nassert add(-1, 1) == 0\n"
    assert _run(program) == 0
    assert _run(build_program("def add(a, b):\n    return a * b", MBPP_TEST, "add")) != 0


def test_build_mbpp_string_test_and_existing_check_call():
    assert _run(build_program("def add(a, b):\n    return a + b", "\n".join(MBPP_TEST), "add")) == 0
    test = "def check(f):\n    assert f(1, 2) == 3\n\ncheck(add)\n"
    program = build_program("def add(a, b):\n    return a + b", test, "add")
    assert program.count("check(add)") == 1


@pytest.mark.parametrize(
    ("args", "exc"),
    [
        ((None, "assert True", "f"), TypeError),
        (("x", None, "f"), TypeError),
        (("x", ["assert 1", 2], "f"), TypeError),
        (("x", "assert True", "not an id"), ValueError),
        (("x", "assert True", None), TypeError),
        (("x", "assert True", "f", 5), TypeError),
    ],
)
def test_build_program_argument_errors(args, exc):
    with pytest.raises(exc):
        build_program(*args)


# ---------------------------------------------------------------------------------------------- check (fake sandbox)


@dataclass
class FakeResult:
    status: str

    @property
    def passed(self) -> bool:
        return self.status == "passed"


class FakeSandbox(types.ModuleType):
    """Implements the sandbox API (run / run_many) with a plain subprocess and records the calls."""

    def __init__(self) -> None:
        super().__init__("lm_eval_thinkpack.sandbox")
        self.calls: list[tuple[str, list[str], dict]] = []
        self.raise_exc: Exception | None = None

    def _one(self, program: str, timeout: float) -> FakeResult:
        if "MEMORY_BOMB" in program:
            return FakeResult("memory")
        try:
            proc = subprocess.run([sys.executable, "-c", program], capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return FakeResult("timeout")
        return FakeResult("passed" if proc.returncode == 0 else "failed")

    def run(self, program, *, timeout=10.0, memory_mb=1024):
        self.calls.append(("run", [program], {"timeout": timeout, "memory_mb": memory_mb}))
        if self.raise_exc is not None:
            raise self.raise_exc
        return self._one(program, timeout)

    def run_many(self, programs, *, timeout, memory_mb, workers=None):
        self.calls.append(("run_many", list(programs), {"timeout": timeout, "memory_mb": memory_mb}))
        if self.raise_exc is not None:
            raise self.raise_exc
        return [self._one(p, timeout) for p in programs]

    # the test-runner API check_code uses: a job runs as solution + tests in one plain process here
    TestJob = real_sandbox.TestJob

    @staticmethod
    def _program(job) -> str:
        return job.solution + "\n\n" + job.tests

    def run_tests(self, job, *, timeout=10.0, memory_mb=1024):
        return self.run(self._program(job), timeout=timeout, memory_mb=memory_mb)

    def run_tests_many(self, jobs, *, timeout, memory_mb, workers=None):
        return self.run_many([self._program(j) for j in jobs], timeout=timeout, memory_mb=memory_mb,
                             workers=workers)


@pytest.fixture
def fake_sandbox(monkeypatch):
    fake = FakeSandbox()
    monkeypatch.setitem(sys.modules, "lm_eval_thinkpack.sandbox", fake)
    monkeypatch.setattr(lm_eval_thinkpack, "sandbox", fake, raising=False)
    return fake


def test_check_code_passed_failed_and_no_code(fake_sandbox):
    good = f"Here you go:\n```python\nfrom typing import List\n\n{HE_FULL}```"
    res = check_code(good, HE_TEST, "has_close_elements", prompt=HE_PROMPT)
    assert res.correct and res.error is None and "def has_close_elements" in res.extracted
    assert fake_sandbox.calls[-1][0] == "run"

    bad = "```python\n" + HE_FULL.replace("< threshold", "> threshold") + "```"
    assert check_code(bad, HE_TEST, "has_close_elements", prompt=HE_PROMPT).correct is False

    assert check_code("I don't know.", HE_TEST, "has_close_elements") == ScoreResult(False, None, None)
    n_calls = len(fake_sandbox.calls)
    check_code("", MBPP_TEST, "add")
    assert len(fake_sandbox.calls) == n_calls  # nothing to run: the sandbox is not called


def test_check_code_body_completion_with_prompt(fake_sandbox):
    res = check_code(HE_BODY, HE_TEST, "has_close_elements", prompt=HE_PROMPT)
    assert res == ScoreResult(True, HE_BODY, None)


def test_check_code_timeout_and_memory_are_reported(fake_sandbox):
    loop = "```python\ndef add(a, b):\n    while True:\n        pass\n```"
    res = check_code(loop, MBPP_TEST, "add", timeout=0.5)
    assert res.correct is False and res.error == "timeout"
    assert fake_sandbox.calls[-1][2]["timeout"] == 0.5
    bomb = "```python\ndef add(a, b):\n    MEMORY_BOMB = 1\n```"
    assert check_code(bomb, MBPP_TEST, "add").error == "memory"


def test_check_code_sandbox_exception_is_an_error_not_a_crash(fake_sandbox):
    fake_sandbox.raise_exc = OSError("no fork for you")
    res = check_code("```python\ndef add(a, b):\n    return a + b\n```", MBPP_TEST, "add")
    # the harness failed, not the model: flagged so that it is never scored against the model
    assert res == ScoreResult(False, "def add(a, b):\n    return a + b", "harness: OSError: no fork for you",
                              harness_error=True)


def test_check_code_sandbox_error_status_is_a_harness_error(fake_sandbox, monkeypatch):
    monkeypatch.setattr(fake_sandbox, "_one", lambda program, timeout: FakeResult("error"))
    res = check_code("```python\ndef add(a, b):\n    return a + b\n```", MBPP_TEST, "add")
    assert res.correct is False and res.harness_error is True and res.error.startswith("harness: ")


def test_check_code_many_is_total(fake_sandbox):
    good = {"text": "```python\ndef add(a, b):\n    return a + b\n```", "test": MBPP_TEST, "entry_point": "add"}
    items = [good, ("text", "test", "f"), {"text": "x", "test": "assert True"},
             {"text": "no code", "test": "assert True", "entry_point": "bad id"},
             {"text": good["text"], "test": 42, "entry_point": "add"}, good]
    results = check_code_many(items)  # type: ignore[list-item]
    assert [r.correct for r in results] == [True, False, False, False, False, True]
    for r, what in zip(results[1:5], ["must be a dict", "missing key", "identifier", "test must be"], strict=True):
        assert r.harness_error is True and r.error.startswith("harness: bad item") and what in r.error, r
    assert not results[0].harness_error and not results[5].harness_error


def test_solution_that_swallows_the_tests_is_not_run(fake_sandbox):
    # an unterminated string closed by the tests' own text would turn the tests into data
    test = 'assert add(1, 2) == 4  # """'  # a wrong expectation: running it must fail
    swallow = '```python\ndef add(a, b):\n    return a + b\nx = """\n```'
    program = build_program('def add(a, b):\n    return a + b\nx = """', test, "add")
    assert _run(program) == 0  # the combined program runs to its end without running the asserts
    n_calls = len(fake_sandbox.calls)
    assert check_code(swallow, test, "add") == ScoreResult(False, 'def add(a, b):\n    return a + b\nx = """',
                                                            None)
    assert len(fake_sandbox.calls) == n_calls


def test_check_code_many_keeps_order(fake_sandbox):
    items = [
        {"text": "```python\ndef add(a, b):\n    return a + b\n```", "test": MBPP_TEST, "entry_point": "add"},
        {"text": "no code", "test": MBPP_TEST, "entry_point": "add"},
        {"text": "```python\ndef add(a, b):\n    return a - b\n```", "test": MBPP_TEST, "entry_point": "add"},
        {"text": HE_BODY, "test": HE_TEST, "entry_point": "has_close_elements", "prompt": HE_PROMPT},
    ]
    results = check_code_many(items, timeout=20.0, memory_mb=512, workers=2)
    assert [r.correct for r in results] == [True, False, False, True]
    assert results[1] == ScoreResult(False, None, None)
    kind, programs, kwargs = fake_sandbox.calls[-1]
    assert kind == "run_many" and len(programs) == 3 and kwargs == {"timeout": 20.0, "memory_mb": 512}


def test_check_code_many_argument_errors(fake_sandbox):
    with pytest.raises(TypeError):
        check_code_many("not a list")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="entry_point"):
        check_code("x", "assert True", "bad id")  # the single call still raises for bad arguments
    assert check_code_many([]) == []
    ok = [{"text": "```python\ndef add(a, b):\n    return a + b\n```", "test": MBPP_TEST, "entry_point": "add"}]
    for kwargs, exc in [
        ({"timeout": 0}, ValueError),
        ({"timeout": "1"}, TypeError),
        ({"memory_mb": 0}, ValueError),
        ({"memory_mb": 1.5}, TypeError),
        ({"workers": 0}, ValueError),
    ]:
        with pytest.raises(exc):
            check_code_many(ok, **kwargs)
    with pytest.raises(ValueError):
        check_code(ok[0]["text"], MBPP_TEST, "add", timeout=-1)
    assert fake_sandbox.calls == []


# ---------------------------------------------------------------------------------------------- check (real sandbox)

def test_real_sandbox_end_to_end():
    good = "```python\ndef add(a, b):\n    return a + b\n```"
    bad = "```python\ndef add(a, b):\n    return a - b\n```"
    loop = "```python\ndef add(a, b):\n    while True:\n        pass\n```"
    assert check_code(good, MBPP_TEST, "add").correct is True
    assert check_code(bad, MBPP_TEST, "add") == ScoreResult(False, "def add(a, b):\n    return a - b", None)
    res = check_code(loop, MBPP_TEST, "add", timeout=1.0)
    assert res.correct is False and res.error == "timeout"
    res = check_code(HE_BODY, HE_TEST, "has_close_elements", prompt=HE_PROMPT)
    assert res.correct is True
    items = [{"text": t, "test": MBPP_TEST, "entry_point": "add"} for t in (good, bad, "nothing")]
    assert [r.correct for r in check_code_many(items, timeout=5.0)] == [True, False, False]


# ---------------------------------------------------------------------------------------------- robustness


@settings(max_examples=300, deadline=None)
@given(st.text(), st.sampled_from([None, "f", "add"]))
def test_extract_code_never_raises(text, entry_point):
    out = extract_code(text, entry_point)
    assert out is None or isinstance(out, str)


@settings(max_examples=100, deadline=None)
@given(st.text(), st.text())
def test_build_program_never_raises_on_text(code, test):
    assert isinstance(build_program(code, test, "f", prompt="def f():\n"), str)


HOSTILE = {
    "one_megabyte_prose": "word " * 200_000,
    "many_fences": "```" * 100_000,
    "many_blocks": "```python\ndef f(): pass\n```\n" * 20_000,
    "deep_parens": "def f():\n    return " + "(" * 10_000 + ")" * 10_000,
    "null_bytes": "def f():\n    return 1\x00\n",
    "long_tag_line": "```" + "x" * 1_000_000,
}


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_extract_code_hostile(text):
    out = extract_code(text, "f")
    assert out is None or isinstance(out, str)


# ------------------------------------------------------------------------------- issue 21: extraction classes

ADD = "def add(a, b):\n    return a + b"


@pytest.mark.parametrize(
    "text",
    [
        f"Here is the solution:\n{ADD}\nThis works because addition is commutative.",
        f"Sure! The function below adds the numbers.\n\n{ADD}\n\nIt runs in O(1) time.\nHope this helps!",
        f"Solution:\n{ADD}\n\nExample usage:\nprint(add(1, 2))",
        f"We can write it as\nimport math\n\n{ADD}\nNote that math is not needed.",
        f"I'd do it like this:\n@staticmethod\n{ADD}\nThe decorator is harmless here.",
        f"Let me think. The answer is simple.\n{ADD}\n\nresult = add(2, 3)\nThat gives 5.",
        f"Here it is:\n\n    {ADD.replace(chr(10), chr(10) + '    ')}\n\nIt passes the examples.",
    ],
)
def test_code_between_prose_is_extracted(text):
    out = extract_code(text, "add")
    assert out is not None and ADD in out
    ns: dict = {}
    exec(compile(out, "<answer>", "exec"), ns)  # noqa: S102 - our own test code
    assert ns["add"](2, 3) == 5


@pytest.mark.parametrize(
    "text",
    [
        f"~~~python\n{ADD}\n~~~",
        f"~~~~python\n{ADD}\n~~~~\nDone.",
        f"````python\n{ADD}\n````",
        f"```Python\n{ADD}\n```",
        f"``` python\n{ADD}\n```",
        f"```python3\n{ADD}\n```",
        f'```python title="solution.py"\n{ADD}\n```',
        f"```python:solution.py\n{ADD}\n```",
        f"```{{.python}}\n{ADD}\n```",
        f"```py linenums\n{ADD}\n```",
        f"~~~\n{ADD}\n~~~",
        f"~~~python\n{ADD}",
        f"````markdown\n```python\n{ADD}\n```\n````",
        f"~~~python\n{ADD}\nprint('```')\n~~~",
        f"```python\n{ADD}\n```python\nprint(add(1, 2))\n```",
    ],
)
def test_other_fence_styles(text):
    out = extract_code(text, "add")
    assert out is not None and out.startswith(ADD), out


@pytest.mark.parametrize(
    "text",
    [
        f"1. The code:\n   ```python\n   {ADD.replace(chr(10), chr(10) + '   ')}\n   ```\n2. Done.",
        f"- Code:\n  ```python\n  {ADD.replace(chr(10), chr(10) + '  ')}\n  ```",
        "* Step one\n    * nested:\n        ```python\n" + textwrap.indent(ADD, " " * 8) + "\n        ```",
        f"1. First:\n\n    ~~~python\n    {ADD.replace(chr(10), chr(10) + '    ')}\n    ~~~",
        f"10. Tenth step:\n    ```python\n    {ADD.replace(chr(10), chr(10) + '    ')}\n    ```",
    ],
)
def test_a_fence_indented_in_a_list_item_is_dedented(text):
    assert extract_code(text, "add") == ADD


@pytest.mark.parametrize(
    ("text", "needed"),
    [
        ("```python\ndef helper(x):\n    return x + 1\n```\nNow:\n"
         "```python\ndef add(a, b):\n    return helper(a) + b - 1\n```", ["def helper"]),
        ("```python\nimport math\n```\n```python\ndef add(a, b):\n    return math.fsum([a, b])\n```", ["import math"]),
        ("```python\nOFFSET = 0\n\ndef helper(x):\n    return x + OFFSET\n```\n"
         "```python\ndef add(a, b):\n    return helper(a) + b\n```", ["OFFSET = 0", "def helper"]),
        ("```python\nclass Adder:\n    def run(self, a, b):\n        return a + b\n```\n"
         "```python\ndef add(a, b):\n    return Adder().run(a, b)\n```", ["class Adder"]),
        ("```python\ndef add(a, b):\n    return helper(a, b)\n```\nwith the helper:\n"
         "```python\ndef helper(a, b):\n    return a + b\n```", ["def helper"]),
    ],
)
def test_helpers_from_other_blocks_are_kept(text, needed):
    out = extract_code(text, "add")
    for piece in needed:
        assert piece in out
    ns: dict = {}
    exec(compile(out, "<answer>", "exec"), ns)  # noqa: S102 - our own test code
    assert ns["add"](2, 3) == 5


def test_an_earlier_draft_of_the_entry_point_is_not_a_helper():
    text = ("```python\ndef add(a, b):\n    return a - b\n\ndef helper(x):\n    return x\n```\nFixed:\n"
            "```python\ndef add(a, b):\n    return helper(a) + b\n```")
    out = extract_code(text, "add")
    assert out == "def helper(x):\n    return x\n\ndef add(a, b):\n    return helper(a) + b"


def test_the_prompts_helpers_are_put_in_front_of_a_full_answer():
    prompt = 'def double(x):\n    return 2 * x\n\n\ndef add(a, b):\n    """a + b, doubled"""\n'
    program = build_program("def add(a, b):\n    return double(a + b)", "assert add(1, 2) == 6", "add", prompt)
    assert "def double" in program
    assert _run(program) == 0


def test_real_sandbox_runs_the_extraction_classes():
    main_guard = (f"```python\n{ADD}\n\nif __name__ == '__main__':\n    a, b = map(int, input().split())\n"
                  "    print(add(a, b))\n```")
    helper = "```python\ndef helper(x):\n    return x\n```\n```python\ndef add(a, b):\n    return helper(a) + b\n```"
    listed = f"1. Code:\n   ```python\n   {ADD.replace(chr(10), chr(10) + '   ')}\n   ```"
    prose = f"Here is the solution:\n{ADD}\nThis works because addition is commutative."
    tilde = f"~~~python\n{ADD}\n~~~"
    items = [{"text": t, "test": MBPP_TEST, "entry_point": "add"} for t in (main_guard, helper, listed, prose, tilde)]
    assert [r.correct for r in check_code_many(items, timeout=10.0)] == [True] * 5
