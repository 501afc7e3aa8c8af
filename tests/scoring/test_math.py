"""MATH-500 / AIME answer extraction and checking, including the hard per-call time limit."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lm_eval_thinkpack.scoring import (
    ScoreResult,
    check_math,
    extract_boxed,
    math_equal,
    math_stats,
    normalize_latex,
    timeout_count,
)
from lm_eval_thinkpack.scoring import math as smath

# An answer whose symbolic comparison never finishes: sympy tries to evaluate the power tower.
HANGS = r"9^{9^{9^{9}}}"

# ---------------------------------------------------------------------------------------------- extract

EXTRACT_CASES = [
    (r"So $x = \boxed{\frac{1}{2}}$.", r"\frac{1}{2}"),
    (r"First \boxed{1}, then corrected: \boxed{2}", "2"),
    (r"\boxed{\boxed{5}}", "5"),
    (r"\boxed{ \boxed{ 4 } }", "4"),
    (r"\boxed{\{1, 2\}}", r"\{1, 2\}"),
    (r"\boxed{\begin{pmatrix} 1 \\ 2 \end{pmatrix}}", r"\begin{pmatrix} 1 \\ 2 \end{pmatrix}"),
    (r"\fbox{7}", "7"),
    (r"\boxed 7 is it", "7"),
    (r"\boxed{\text{(B)}}", r"\text{(B)}"),
    # issue 21: the last answer given is a box cut before its closing brace: no answer (it may have been 3x)
    (r"\boxed{x^{2}+\frac{1}{x}} and a trailing unbalanced \boxed{3", None),
    (r"\boxed{}", None),
    (r"\boxed{", None),
    ("Final Answer: The final answer is $\\frac{1}{2}$. I hope it is correct.", r"\frac{1}{2}"),
    ("Final Answer: The final answer is 5. I hope it is correct.", "5"),
    ("The answer is: $(-\\infty, 3]$", r"(-\infty, 3]"),
    ("**Final answer:** 3.5", "3.5"),
    ("Answer: 033", "033"),
    ("The answer is \\frac{1}{2} because the two cases are symmetric.", r"\frac{1}{2}"),
    ("The answer is 5\\text{ dollars}", r"5\text{ dollars}"),
    ("The final answer is Evelyn", "Evelyn"),
    ("The answer is x^2 + 1 where x is real", "x^2 + 1"),
    ("I could not solve it.", None),
    ("", None),
    (None, None),
]


@pytest.mark.parametrize(("text", "expected"), EXTRACT_CASES)
def test_extract_boxed(text, expected):
    assert extract_boxed(text) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (r"$\dfrac{1}{2}$", r"\frac{1}{2}"),
        (r"\tfrac12", r"\frac{1}{2}"),
        (r"\frac1{2}", r"\frac{1}{2}"),
        (r"\sqrt2", r"\sqrt{2}"),
        (r"\left( 1, 2 \right)", "(1,2)"),
        (r"30^\circ", "30"),
        (r"30^{\circ}", "30"),
        (r"50\%", "50"),
        (r"\$18.90", "18.90"),
        (r"\text{(B)}", "B"),
        (r"\textbf{Evelyn}", "Evelyn"),
        ("x = 3", "3"),
        (r"\theta = \pi", r"\pi"),
        ("1,000", "1000"),
        (r"1{,}000", "1000"),
        ("4.", "4"),
        (r"\boxed{7}", "7"),
        (r"a\,b\!c\;d", "abcd"),
        ("x+y=3", "x+y=3"),  # not a single-variable left-hand side: kept
        ("x=1,y=2", "x=1,y=2"),
    ],
)
def test_normalize_latex(raw, expected):
    assert normalize_latex(raw) == expected


def test_normalize_latex_type_error():
    with pytest.raises(TypeError):
        normalize_latex(None)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------- equality

EQUAL = [
    (r"\frac{1}{2}", "0.5"),
    (r"\frac{1}{2}", r"\dfrac12"),
    (r"\frac{1}{2}", "1/2"),
    (r"\frac{\sqrt{2}}{2}", r"\sqrt{2}/2"),
    (r"\frac{\sqrt2}{2}", r"\frac{1}{\sqrt{2}}"),
    (r"2\sqrt{3}", r"\sqrt{12}"),
    (r"\frac{\pi}{2}", r"\pi/2"),
    ("3", "x=3"),
    ("3", "x = 3"),
    (r"30^\circ", "30"),
    ("30", r"30^{\circ}"),
    (r"\text{(B)}", "B"),
    (r"\text{(B)}", "(B)"),
    (r"(-\infty, 3]", r"(-\infty,3]"),
    (r"[2, 5)", r"\left[2,5\right)"),
    ("(3, -2)", r"\left( 3, -2 \right)"),
    (r"\left( 3, \frac{\pi}{2} \right)", r"(3,\frac{\pi}{2})"),
    ("x^2+2x+1", "(x+1)^2"),
    (r"\{1,2\}", r"\{2,1\}"),
    ("033", "33"),  # AIME answers are often zero-padded
    ("33", "033"),
    ("1000", "1,000"),
    ("10", "10.0"),
    (r"50\%", "50"),
    (r"\text{Evelyn}", "Evelyn"),
    (r"\begin{pmatrix} 1 \\ 2 \end{pmatrix}", r"\begin{pmatrix}1\\2\end{pmatrix}"),
    ("-5", r"-\frac{10}{2}"),
]

NOT_EQUAL = [
    (r"\frac{1}{2}", "0.51"),
    (r"\frac{1}{3}", "0.333"),
    (r"\frac{1}{2}", r"\frac{2}{1}"),
    ("[2,5)", "(2,5)"),
    ("2", "3"),
    ("-5", "5"),
    (r"\pi", "3.14"),
    ("x^2+1", "(x+1)^2"),
    (r"\sqrt{2}", "2"),
    ("033", "34"),
    ("(3,-2)", "(-2,3)"),
    (r"\text{(B)}", "C"),
    (r"\{1,2\}", r"\{1,3\}"),
    (r"\begin{pmatrix} 1 \\ 2 \end{pmatrix}", r"\begin{pmatrix}2\\1\end{pmatrix}"),
    ("7", ""),
    ("7", "   "),
]


@pytest.mark.parametrize(("gold", "pred"), EQUAL)
def test_math_equal_true(gold, pred):
    assert math_equal(pred, gold) is True


@pytest.mark.parametrize(("gold", "pred"), NOT_EQUAL)
def test_math_equal_false(gold, pred):
    assert math_equal(pred, gold) is False


def test_math_equal_none_and_int_gold():
    assert math_equal(None, "3") is False
    assert math_equal("033", 33) is True
    assert math_equal("34", 33) is False


def test_fast_path_skips_worker():
    before = math_stats()
    assert math_equal(r"\dfrac{1}{2}", r"\frac12")
    assert math_equal("033", "33")
    assert not math_equal("12", "13")
    after = math_stats()
    assert after["worker_calls"] == before["worker_calls"]
    assert after["fast_path"] - before["fast_path"] == 3


@pytest.mark.parametrize(
    ("kwargs", "exc"),
    [
        ({"timeout": 0}, ValueError),
        ({"timeout": -1.0}, ValueError),
        ({"timeout": float("nan")}, ValueError),
        ({"timeout": "5"}, TypeError),
        ({"timeout": True}, TypeError),
    ],
)
def test_bad_timeout(kwargs, exc):
    with pytest.raises(exc):
        math_equal("1", "1", **kwargs)
    with pytest.raises(exc):
        check_math(r"\boxed{1}", "1", **kwargs)


@pytest.mark.parametrize("gold", [None, 1.5, ["1"], True])
def test_bad_gold(gold):
    with pytest.raises(TypeError):
        math_equal("1", gold)


def test_bad_pred_type():
    with pytest.raises(TypeError):
        math_equal(3, "3")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------- check_math


@pytest.mark.parametrize(
    ("response", "gold", "expected"),
    [
        (r"... so the probability is $\boxed{\dfrac{1}{2}}$.", r"\frac{1}{2}", ScoreResult(True, r"\dfrac{1}{2}")),
        (r"Thus $\boxed{0.5}$", r"\frac12", ScoreResult(True, "0.5")),
        (r"The roots give $\boxed{x=3}$", "3", ScoreResult(True, "x=3")),
        (r"$\boxed{33}$", "033", ScoreResult(True, "33")),
        (r"$\boxed{34}$", "033", ScoreResult(False, "34")),
        ("Final Answer: The final answer is $2$. I hope it is correct.", "2", ScoreResult(True, "2")),
        ("I give up.", "2", ScoreResult(False, None, None)),
        (None, "2", ScoreResult(False, None, None)),
        # gold given as a full MATH solution: its boxed answer is used
        (r"\boxed{4}", r"We get $2+2=\boxed{4}$.", ScoreResult(True, "4")),
    ],
)
def test_check_math(response, gold, expected):
    assert check_math(response, gold) == expected


def test_input_too_long_is_an_error_not_a_crash():
    long = "x+" * (smath.MAX_SYMBOLIC_CHARS) + "1"
    res = check_math(r"\boxed{" + long + "}", "y")
    assert res == ScoreResult(False, long, "input_too_long")


# ---------------------------------------------------------------------------------------------- time limit


def _warm_up() -> None:
    # Start a worker (start-up time is not part of the per-call limit) so timings below are honest.
    assert math_equal(r"\sqrt{4}", "2", timeout=30)


def test_hard_timeout_main_thread():
    _warm_up()
    before = timeout_count()
    start = time.monotonic()
    res = check_math(rf"so \boxed{{{HANGS}}}", "1", timeout=0.5)
    elapsed = time.monotonic() - start
    assert res == ScoreResult(False, HANGS, "timeout")
    assert timeout_count() == before + 1
    assert elapsed < 10  # generous: the limit is 0.5 s, the process is killed right after it
    # The killed worker is replaced transparently.
    assert check_math(r"\boxed{\frac{\sqrt{2}}{2}}", r"\frac{1}{\sqrt2}", timeout=30) == ScoreResult(
        True, r"\frac{\sqrt{2}}{2}", None
    )


def test_math_equal_timeout_returns_false():
    before = timeout_count()
    assert math_equal(HANGS, "2", timeout=0.3) is False
    assert timeout_count() == before + 1


def test_hard_timeout_in_thread():
    _warm_up()
    out: list[ScoreResult] = []
    t = threading.Thread(target=lambda: out.append(check_math(rf"\boxed{{{HANGS}}}", "1", timeout=0.5)))
    t.start()
    t.join(60)
    assert not t.is_alive()
    assert out == [ScoreResult(False, HANGS, "timeout")]


def test_many_threads_at_once():
    jobs = [
        (rf"\boxed{{{HANGS}}}", "1", ScoreResult(False, HANGS, "timeout")),
        (r"\boxed{\sqrt{12}}", r"2\sqrt{3}", ScoreResult(True, r"\sqrt{12}", None)),
        (r"\boxed{(x+1)^2}", "x^2+2x+1", ScoreResult(True, "(x+1)^2", None)),
        (r"\boxed{\frac{\pi}{3}}", r"\frac{\pi}{2}", ScoreResult(False, r"\frac{\pi}{3}", None)),
    ]
    results: dict[int, ScoreResult] = {}

    def run(i: int, text: str, gold: str) -> None:
        # Short limit for the hanging job; generous for the rest (workers may be starting on 2 CPUs).
        limit = 1.0 if HANGS in text else 60.0
        results[i] = check_math(text, gold, timeout=limit)

    threads = [threading.Thread(target=run, args=(i, text, gold)) for i, (text, gold, _) in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert all(not t.is_alive() for t in threads)
    assert [results[i] for i in range(len(jobs))] == [want for _, _, want in jobs]


def test_dead_idle_worker_is_replaced():
    _warm_up()
    with smath._pool._lock:
        idle = list(smath._pool._idle)
    for w in idle:
        w.proc.kill()
        w.proc.wait()
    assert math_equal(r"\sqrt{9}", r"\frac{6}{2}", timeout=30) is True


# ---------------------------------------------------------------------------------------------- robustness

_LATEX_TOKENS = st.sampled_from(
    ["\\frac", "{", "}", "\\sqrt", "^", "_", "x", "y", "1", "2", "0", "-", "+", "(", ")", "[", "]",
     "\\pi", "\\infty", ",", "=", "\\left", "\\right", "\\text{", "\\boxed{", "\\", " ", "%", "$", ".",
     "\\begin{pmatrix}", "\\end{pmatrix}", "\\\\", "&", "\\{", "\\}", "i", "e", "!", "/", "\\cdot"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_extract_and_normalize_never_raise(text):
    extracted = extract_boxed(text)
    assert extracted is None or isinstance(extracted, str)
    assert isinstance(normalize_latex(text), str)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_LATEX_TOKENS, max_size=12).map("".join), st.lists(_LATEX_TOKENS, max_size=8).map("".join))
def test_check_math_never_raises_on_latex_soup(pred, gold):
    res = check_math(r"\boxed{" + pred + "}", gold or "1", timeout=2.0)
    assert isinstance(res.correct, bool)
    assert res.error is None or isinstance(res.error, str)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=40))
def test_math_equal_never_raises_on_unicode(text):
    assert isinstance(math_equal(text, "1", timeout=2.0), bool)


HOSTILE = {
    "nested_frac_500": r"\boxed{" + r"\frac{" * 500 + "1" + "}{2}" * 500 + "}",
    "one_megabyte": ("The answer is \\frac{1}{2} because we computed it. " * 25_000)[:1_000_000],
    "ten_thousand_open_boxes": r"\boxed{" * 10_000,
    "ten_thousand_boxes": r"\boxed{1}" * 10_000,
    "deep_braces": "{" * 100_000 + r"\boxed{2}" + "}" * 100_000,
    "answer_then_spaces": "answer is" + " " * 100_000 + "\n",
    "dollar_run": "$" * 100_000,
    "nested_boxes": r"\boxed{" * 5_000 + "3" + "}" * 5_000,
}


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_inputs(text):
    extracted = extract_boxed(text)
    assert extracted is None or isinstance(extracted, str)
    res = check_math(text, r"\frac{1}{2}", timeout=2.0)
    assert isinstance(res.correct, bool)
    assert res.error is None or isinstance(res.error, str)


def test_worker_that_cannot_start_is_an_error(monkeypatch, tmp_path):
    broken = tmp_path / "worker.py"
    broken.write_text("import sys\nsys.exit(3)\n")
    smath.shutdown_math_workers()  # no idle worker to reuse
    monkeypatch.setattr(smath, "_WORKER_PATH", str(broken))
    with smath._cache_lock:
        smath._cache.clear()
    res = check_math(r"\boxed{\sqrt{16}}", "4")
    # a harness fault, retried, then reported apart from the model's errors
    assert res == ScoreResult(False, r"\sqrt{16}", "harness: worker_start_failed after 3 attempts", True)
    monkeypatch.undo()
    assert check_math(r"\boxed{\sqrt{16}}", "4", timeout=30) == ScoreResult(True, r"\sqrt{16}", None)


def test_worker_cache_is_used_for_repeated_pairs():
    assert math_equal(r"\sqrt{25}", r"\frac{10}{2}", timeout=30)
    before = math_stats()
    assert math_equal(r"\sqrt{25}", r"\frac{10}{2}", timeout=30)
    after = math_stats()
    assert after["cache_hits"] == before["cache_hits"] + 1
    assert after["worker_calls"] == before["worker_calls"]


# ------------------------------------------------------------------ issue 10: answers over several boxes, tolerance

MULTI_BOX = [
    (r"So $x = \boxed{1 + \sqrt{19}}$ or $x = \boxed{1 - \sqrt{19}}$.", r"1 \pm \sqrt{19}", True),
    (r"\boxed{-2} and \boxed{1}", "1,-2", True),
    (r"The roots are $\boxed{3}$, $\boxed{-3}$.", r"\pm 3", True),
    (r"$x_1 = \boxed{2}$ and $x_2 = \boxed{5}$", "2, 5", True),
    (r"\boxed{5}\text{ or }\boxed{7}", "5,7", True),
    # all the boxes count: one right box beside a wrong one is not the answer
    (r"\boxed{-2} and \boxed{1}", "1", False),
    (r"\boxed{-2} and \boxed{1}", "1,2", False),
    # prose between boxes: only the last box is the answer
    (r"First \boxed{1}, then corrected: \boxed{2}", "2", True),
    (r"Step one gives \boxed{4}. The final answer is \boxed{5}", "5", True),
]


@pytest.mark.parametrize(("text", "gold", "expected"), MULTI_BOX)
def test_an_answer_split_over_boxes_is_scored_on_all_of_them(text, gold, expected):
    res = check_math(text, gold, timeout=60)
    assert res.error is None and res.correct is expected, res


def test_final_boxes():
    assert smath.final_boxes(r"\boxed{-2} and \boxed{1}") == ["-2", "1"]
    assert smath.final_boxes(r"\boxed{5} and \boxed{5}") == ["5"]
    assert smath.final_boxes(r"\boxed{1}" * 10_000) == ["1"]  # capped, deduplicated
    assert len(smath.final_boxes("".join(rf"\boxed{{{i}}}, " for i in range(20)))) == smath.MAX_JOINED_BOXES
    assert extract_boxed(r"\boxed{-2} and \boxed{1}") == "-2, 1"


TOLERANCE = [
    # one policy for plain numbers and the symbolic path: a decimal compares at 6 places
    ("0.333333", r"\frac{1}{3}", True),
    ("0.3333333333", "1/3", True),
    ("0.666667", r"\frac{2}{3}", True),
    ("0.707107", r"\frac{\sqrt{2}}{2}", True),
    ("0.33", r"\frac{1}{3}", False),
    ("0.666666", r"\frac{2}{3}", False),
    ("3.0", "3", True),
    ("0.5", r"\frac{1}{2}", True),
    ("0.500001", r"\frac{1}{2}", False),
    (r"\frac{1}{3}", "0.333333", True),
    ("1/3", r"\frac{1}{3}", True),  # no decimal on either side: exact
    (r"\frac{333333}{1000000}", r"\frac{1}{3}", False),
]


@pytest.mark.parametrize(("pred", "gold", "expected"), TOLERANCE)
def test_one_tolerance_policy(pred, gold, expected):
    assert math_equal(pred, gold, timeout=60) is expected


def test_tolerance_policy_matches_math_verify_on_decimals():
    from math_verify import parse, verify

    for pred, gold, expected in TOLERANCE:
        mv = verify(parse("\\boxed{" + gold + "}", parsing_timeout=None),
                    parse("\\boxed{" + pred + "}", parsing_timeout=None), timeout_seconds=None)
        assert bool(mv) is expected, (pred, gold)


# ------------------------------------------------- issue 10/12: the math worker after timeouts and outside kills


def _uncached(n: int) -> tuple[str, str]:
    """A pair that needs the symbolic worker and is not in its cache yet."""
    smath._cache.clear()
    return rf"\sqrt{{{n * n}}} + 0", rf"\frac{{{2 * n}}}{{2}}"


def test_after_a_timeout_the_next_call_waits_for_the_warming_replacement():
    _warm_up()
    assert smath._pool.settle(120)
    before = math_stats()["worker_starts"]
    assert check_math(rf"\boxed{{{HANGS}}}", "1", timeout=0.5).error == "timeout"
    pred, gold = _uncached(7)
    assert check_math(rf"\boxed{{{pred}}}", gold, timeout=60) == ScoreResult(True, pred, None)
    assert smath._pool.settle(120)
    # one replacement for the killed worker; the next call waited for it instead of starting its own
    assert math_stats()["worker_starts"] == before + 1


def test_worker_killed_between_calls_is_retried_on_a_fresh_worker():
    _warm_up()
    assert smath._pool.settle(120)
    for pid in smath._pool.pids()["idle"]:
        os.kill(pid, signal.SIGKILL)  # not reaped: the pool may still think they are alive
    pred, gold = _uncached(8)
    assert check_math(rf"\boxed{{{pred}}}", gold, timeout=60) == ScoreResult(True, pred, None)


def _kill_on_ask(monkeypatch, times: int, sig: int = signal.SIGKILL) -> dict[str, int]:
    """Make the next ``times`` requests find their worker dying by ``sig`` as the request is sent."""
    orig = smath._Worker.ask
    left = {"n": times}

    def ask(self, gold, pred, timeout):
        if left["n"] > 0:
            left["n"] -= 1
            os.kill(self.proc.pid, sig)
            self.proc.wait(5)
        return orig(self, gold, pred, timeout)

    monkeypatch.setattr(smath._Worker, "ask", ask)
    return left


def test_worker_killed_during_a_call_is_retried(monkeypatch):
    _warm_up()
    left = _kill_on_ask(monkeypatch, 1)
    before = math_stats()
    pred, gold = _uncached(9)
    assert check_math(rf"\boxed{{{pred}}}", gold, timeout=60) == ScoreResult(True, pred, None)
    assert left["n"] == 0
    after = math_stats()
    assert after["retries"] == before["retries"] + 1 and after["harness_errors"] == before["harness_errors"]


def test_repeated_outside_kills_are_a_harness_error_not_the_models(monkeypatch):
    _warm_up()
    _kill_on_ask(monkeypatch, smath.HARNESS_RETRIES + 1)
    before = math_stats()["harness_errors"]
    pred, gold = _uncached(10)
    res = check_math(rf"\boxed{{{pred}}}", gold, timeout=60)
    assert res.harness_error is True and res.correct is False
    assert res.error == f"harness: worker_killed({-signal.SIGKILL}) after {smath.HARNESS_RETRIES + 1} attempts"
    assert math_stats()["harness_errors"] == before + 1
    monkeypatch.undo()
    assert check_math(rf"\boxed{{{pred}}}", gold, timeout=60) == ScoreResult(True, pred, None)


def test_an_answer_that_crashes_the_checker_twice_is_the_models_error(monkeypatch):
    _warm_up()
    _kill_on_ask(monkeypatch, 2, signal.SIGSEGV)  # the worker dies on its own, as on a checker crash
    pred, gold = _uncached(11)
    assert check_math(rf"\boxed{{{pred}}}", gold, timeout=60) == ScoreResult(False, pred, "worker_crashed")


def test_a_real_kill_while_the_worker_is_busy():
    _warm_up()
    assert smath._pool.settle(120)
    before = math_stats()["retries"]
    out: list[ScoreResult] = []
    t = threading.Thread(target=lambda: out.append(check_math(rf"\boxed{{{HANGS}}}", "1", timeout=3.0)))
    t.start()
    killed = None
    for _ in range(3000):  # wait until the check is running on a worker, then kill that worker
        busy = smath._pool.pids()["busy"]
        if busy:
            killed = busy[0]
            os.kill(killed, signal.SIGKILL)
            break
        time.sleep(0.01)
    t.join(120)
    assert killed is not None and not t.is_alive()
    # retried on a fresh worker, where the answer hit its own time limit: the answer's verdict, not a fault
    assert out == [ScoreResult(False, HANGS, "timeout")]
    assert math_stats()["retries"] == before + 1


@pytest.mark.parametrize(
    ("text", "gold", "expected"),
    [
        # a later "The final answer is $...$" after the last box is the last answer given
        (r"so $\boxed{255}$ more. Final Answer: The final answer is $10,455$. I hope it is correct.", "10455", True),
        (r"so $\boxed{255}$ more. Final Answer: The final answer is 10455.", "10455", True),
        (r"\boxed{5}. So the answer is indeed what we wanted.", "5", True),  # prose after a box: the box
        # "32, 349" is two numbers, "32,349" and "32,\! 349" one
        (r"is $\boxed{32, 349}$", "32349", False),
        (r"is $\boxed{32,349}$", "32349", True),
        (r"is $\boxed{32,\! 349}$", "32349", True),
        # a gold written with several boxes is all of them
        (r"$\boxed{1,2}$", r"$\boxed{1}\boxed{2}$", True),
        (r"$\boxed{-2,1}$", r"\(\boxed{1}\) and \(\boxed{-2}\).", True),
        (r"$\boxed{1,2}$", r"\boxed{1} papers and \boxed{2} bins", True),
        (r"$\boxed{1,2}$", r"\boxed{1} no no no no no \boxed{2}", False),
    ],
)
def test_last_answer_given_and_lists(text, gold, expected):
    res = check_math(text, gold, timeout=60)
    assert res.error is None and res.correct is expected, res


# ---------------------------------------------------------------- issue 21: a marker followed by a sentence, a cut box

@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Final Answer: The largest $n$ is 34.", "34"),
        ("Final Answer: The largest $n$ is 34. I hope it is correct.", "34"),
        ("Final Answer: There are 34 ways.", "34"),
        ("Answer: The value of $x$ is $\\frac{3}{4}$.", "\\frac{3}{4}"),
        ("Final answer: the probability equals 1/2.", "1/2"),
        ("Final Answer: We get $x = 5$.", "x = 5"),
        ("Final Answer: I found that $n = 34$.", "n = 34"),
        ("Final answer: Therefore, the largest n is 34", "34"),
        ("Final Answer: 34 is the largest", "34"),
        ("Final Answer: The sum of the roots is $-3$, as claimed.", "-3"),
        ("\\boxed{33}\nFinal Answer: The largest $n$ is 34.", "34"),
        # a sentence without a value stays the answer (a word answer), and never overrides a box
        ("Answer: No solution", "No solution"),
        ("\\boxed{12}\nThe answer is the sum of $a$ and $b$.", "12"),
    ],
)
def test_a_marker_followed_by_a_sentence_reads_its_final_value(text, expected):
    assert extract_boxed(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "The answer is \\boxed{6",
        "The answer is $\\boxed{6",
        "Final Answer: \\fbox{6",
        "\\boxed{6} ... so in total \\boxed{6",
        "The answer is \\boxed{\\frac{6}{1}",
    ],
)
def test_a_cut_box_is_never_credited(text):
    res = check_math(text, "6", timeout=30)
    assert res == ScoreResult(False, None, None)
