"""Code answers (HumanEval, MBPP, EvalPlus): extract the program from a response and run the benchmark's
tests against it with :func:`lm_eval_thinkpack.sandbox.run_tests_many` (imported lazily, only when checking):
the tests run in a trusted process, the solution sandboxed as the callee (see ``_sandbox_runner``).

Extraction and program building never raise on model text. Bad argument types/values (a non-identifier
``entry_point``, a non-string ``test``) raise ``TypeError``/``ValueError``.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Sequence

from . import code_extract
from ._text import as_text
from .registry import doc_timeout, register_scorer
from .result import ScoreResult

__all__ = ["build_program", "check_code", "check_code_many", "extract_code"]

#: Raw (unfenced) text longer than this is not parsed to decide whether it looks like code.
_MAX_RAW_PARSE_CHARS = code_extract.MAX_PARSE_CHARS


def _check_entry_point(entry_point: object, *, optional: bool) -> str | None:
    if entry_point is None and optional:
        return None
    if not isinstance(entry_point, str):
        raise TypeError(f"entry_point must be a str, got {type(entry_point).__name__}")
    if not entry_point.isidentifier():
        raise ValueError(f"entry_point must be a Python identifier, got {entry_point!r}")
    return entry_point


def extract_code(text: str | None, entry_point: str | None = None) -> str | None:
    """The program in a response (:mod:`.code_extract` says how it is found).

    Fenced blocks (backticks or tildes, any info string, indented in a list item or not): with
    ``entry_point``, the last block that defines it (Python-tagged blocks first, then any), with the
    top-level helpers it uses from the other blocks put in front; otherwise, or if none defines it, the last
    Python-tagged (or untagged) block, else the last block. Without fences: the code in the prose around it
    (``Here it is:`` / ``def ...`` / ``This works because ...``). ``None`` when there is no code.
    """
    entry_point = _check_entry_point(entry_point, optional=True)
    text = as_text(text)
    if not text or not text.strip():
        return None
    try:
        return code_extract.extract(text, entry_point)
    except (RecursionError, MemoryError):  # pragma: no cover - defensive
        return None


_IMPORT_RE = re.compile(r"^(?:import[ \t]+\S.*|from[ \t]+\S+[ \t]+import[ \t]+.+)$", re.MULTILINE)
_CHECK_DEF_RE = re.compile(r"^def[ \t]+check[ \t]*\(", re.MULTILINE)
_CHECK_CALL_RE = re.compile(r"^check[ \t]*\(", re.MULTILINE)


def build_program(code: str, test: str | Sequence[str], entry_point: str, prompt: str | None = None) -> str:
    """A self-contained test program for ``code``.

    * ``test`` defining ``check(candidate)`` (HumanEval): ``code + test + check(entry_point)``.
    * otherwise ``test`` is assert statements (MBPP / EvalPlus; a list of strings is joined by lines).
    * if ``code`` does not define ``entry_point`` and ``prompt`` is given, the completion is treated as a
      function body continuing the prompt: ``prompt + code``. If it does define it, the prompt's import
      lines are put in front (models often drop ``from typing import List``), and so are the prompt's own
      helpers it uses without defining them (HumanEval/10's ``is_palindrome``).
    """
    if not isinstance(code, str):
        raise TypeError(f"code must be a str, got {type(code).__name__}")
    if isinstance(test, (list, tuple)):
        if not all(isinstance(t, str) for t in test):
            raise TypeError("test must be a str or a sequence of str")
        test = "\n".join(test)
    if not isinstance(test, str):
        raise TypeError(f"test must be a str or a sequence of str, got {type(test).__name__}")
    entry_point = _check_entry_point(entry_point, optional=False)
    if prompt is not None and not isinstance(prompt, str):
        raise TypeError(f"prompt must be a str or None, got {type(prompt).__name__}")

    return _build(code, test, entry_point, prompt)[1]


def _build(code: str, test: str, entry_point: str, prompt: str | None) -> tuple[str, str]:
    """``(solution, program)``: the model's part alone, and the whole test program (arguments checked)."""
    if prompt and not code_extract.defines(code, entry_point):
        body = prompt if prompt.endswith("\n") else prompt + "\n"
        solution = body + code
    else:
        imports = _IMPORT_RE.findall(prompt) if prompt else []
        header = "".join(line + "\n" for line in imports)
        helpers = code_extract.prompt_helpers(code, prompt) if prompt else ""
        solution = (header + "\n" if header else "") + (helpers + "\n\n\n" if helpers else "") + code
    parts = [solution.rstrip("\n"), test.strip("\n")]
    if _CHECK_DEF_RE.search(test) and not _CHECK_CALL_RE.search(test):
        parts.append(f"check({entry_point})")
    return solution, "\n\n\n".join(parts) + "\n"


def _tests(test: str, entry_point: str) -> str:
    """The benchmark's test code as the trusted runner runs it: HumanEval's ``check`` is called on the entry point."""
    test = test.strip("\n")
    if _CHECK_DEF_RE.search(test) and not _CHECK_CALL_RE.search(test):
        test += f"\n\n\ncheck({entry_point})"
    return test + "\n"


def _parses_alone(solution: str) -> bool:
    """Whether the model's part is a complete module by itself.

    If it is not, the tests after it could be swallowed: an unterminated string or bracket in the solution
    that the tests' own text closes turns the tests into data, and the program ends normally without having
    run them. Such a solution is a failed answer and is not run.
    """
    try:
        compile(solution, "<solution>", "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        return False
    return True


def _completion_body(text: object, prompt: object, entry_point: object) -> str | None:
    """A bare function-body completion (base-model HumanEval style) that continues ``prompt``."""
    if not isinstance(text, str) or not isinstance(prompt, str) or not isinstance(entry_point, str):
        return None
    if not text.strip() or len(text) + len(prompt) > _MAX_RAW_PARSE_CHARS:
        return None
    try:
        ast.parse(prompt + text)
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        return None
    return text if code_extract.defines(prompt, entry_point) else None


def _sandbox():
    try:
        from lm_eval_thinkpack import sandbox
    except ImportError as exc:  # a deployment problem, not a model failure: say so loudly
        raise ImportError(
            "lm_eval_thinkpack.sandbox is required to check code answers but could not be imported"
        ) from exc
    return sandbox


def _harness(extracted: str | None, why: str) -> ScoreResult:
    """The harness could not produce a verdict: never counted against the model."""
    return ScoreResult(False, extracted, f"harness: {why}", harness_error=True)


def _verdict(extracted: str, result: object) -> ScoreResult:
    status = getattr(result, "status", None)
    if status == "passed":
        return ScoreResult(True, extracted, None)
    if status == "failed":
        return ScoreResult(False, extracted, None)
    if status == "error":  # the sandbox gave up after rerunning the program on fresh workers
        why = (getattr(result, "stderr", "") or "").strip().splitlines()
        return _harness(extracted, why[0] if why else "sandbox error")
    if status in ("timeout", "memory"):  # the program did not finish within its limits: the model's failure
        return ScoreResult(False, extracted, status)
    return _harness(extracted, f"unknown sandbox status {status!r}")


def check_code(
    text: str | None,
    test: str | Sequence[str],
    entry_point: str,
    *,
    prompt: str | None = None,
    timeout: float = 10.0,
    memory_mb: int = 1024,
) -> ScoreResult:
    """Extract code from ``text``, build the test program and run it in the sandbox.

    ``correct`` only when the sandbox's trusted runner ran the benchmark's tests to their end against the
    solution, which runs sandboxed as the callee (an exit status never counts). ``error`` is ``None`` when the
    tests passed or failed normally, ``"timeout"``/``"memory"`` when the program exceeded its limits, and
    ``"harness: ..."`` with ``harness_error=True`` when the sandbox itself failed (after rerunning the program
    on fresh workers).
    A response without code is ``ScoreResult(False, None, None)``. Bad arguments raise
    ``TypeError``/``ValueError``.
    """
    item = {"text": text, "test": test, "entry_point": entry_point, "prompt": prompt}
    return _check_many([item], timeout, memory_mb, 1, strict=True)[0]


def check_code_many(
    items: Sequence[dict],
    *,
    timeout: float = 10.0,
    memory_mb: int = 1024,
    workers: int | None = None,
) -> list[ScoreResult]:
    """:func:`check_code` for many responses at once, using ``sandbox.run_many``.

    Each item is a dict with keys ``text``, ``test``, ``entry_point`` and optionally ``prompt``.
    Results are in the order of ``items``. Total: a bad item (not a dict, a missing key, a bad
    ``entry_point`` or ``test``) gets ``ScoreResult(False, None, "harness: bad item ...", harness_error=True)``
    and never stops the others; only a bad ``items``/``timeout``/``memory_mb``/``workers`` raises.
    """
    return _check_many(items, timeout, memory_mb, workers, strict=False)


def _check_many(items, timeout, memory_mb, workers, *, strict: bool) -> list[ScoreResult]:
    if isinstance(items, (str, bytes)) or not isinstance(items, Sequence):
        raise TypeError(f"items must be a list of dicts, got {type(items).__name__}")
    # Validate limits here, so a bad value raises instead of turning into per-item sandbox errors below.
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"timeout must be a number of seconds, got {type(timeout).__name__}")
    if not math.isfinite(timeout) or timeout <= 0:
        raise ValueError(f"timeout must be a positive finite number of seconds, got {timeout!r}")
    if isinstance(memory_mb, bool) or not isinstance(memory_mb, int):
        raise TypeError(f"memory_mb must be an int, got {type(memory_mb).__name__}")
    if memory_mb <= 0:
        raise ValueError(f"memory_mb must be positive, got {memory_mb!r}")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers must be None or a positive int, got {workers!r}")
    results: list[ScoreResult | None] = [None] * len(items)
    programs: list = []  # sandbox.TestJob
    owners: list[tuple[int, str]] = []
    for i, item in enumerate(items):
        try:
            job = _prepare(i, item)
        except (TypeError, ValueError) as exc:
            if strict:
                raise
            results[i] = _harness(None, f"bad item {i}: {exc}")
            continue
        if isinstance(job, ScoreResult):
            results[i] = job
        else:
            programs.append(job[1])
            owners.append((i, job[0]))
    if programs:
        sandbox = _sandbox()
        try:
            jobs = [sandbox.TestJob(*job) for job in programs]
            if len(jobs) == 1:
                runs = [sandbox.run_tests(jobs[0], timeout=timeout, memory_mb=memory_mb)]
            else:
                runs = sandbox.run_tests_many(jobs, timeout=timeout, memory_mb=memory_mb, workers=workers)
        except Exception as exc:  # noqa: BLE001 - the sandbox failing is the harness' fault, not a crash
            runs = [exc] * len(programs)
        for (i, extracted), run in zip(owners, runs, strict=True):
            if isinstance(run, Exception):
                results[i] = _harness(extracted, f"{type(run).__name__}: {run}")
            else:
                results[i] = _verdict(extracted, run)
    return results  # type: ignore[return-value]


def _prepare(i: int, item: object) -> ScoreResult | tuple[str, tuple[str, str, str, str]]:
    """A verdict without running anything, or ``(extracted, (solution, tests, entry_point, prompt))`` to run.
    Bad items raise."""
    if not isinstance(item, dict):
        raise TypeError(f"items[{i}] must be a dict, got {type(item).__name__}")
    missing = {"text", "test", "entry_point"} - item.keys()
    if missing:
        raise ValueError(f"items[{i}] is missing key(s) {sorted(missing)}")
    extracted = extract_code(item["text"], item["entry_point"])
    parsed = None  # a text already known to parse alone
    if extracted is None:
        extracted = _completion_body(item["text"], item.get("prompt"), item["entry_point"])
        if extracted is not None:
            parsed = item["prompt"] + extracted  # _completion_body parsed it
    if extracted is None:
        # Still validate the arguments, so a bad item is reported whether or not the model answered.
        build_program("", item["test"], item["entry_point"], item.get("prompt"))
        return ScoreResult(False, None, None)
    build_program(extracted, item["test"], item["entry_point"], item.get("prompt"))  # checks the arguments
    test = item["test"] if isinstance(item["test"], str) else "\n".join(item["test"])
    solution = _build(extracted, test, item["entry_point"], item.get("prompt"))[0]
    if solution != parsed and not _parses_alone(solution):
        return ScoreResult(False, extracted, None)  # the model's code is not a complete program
    return extracted, (solution, _tests(test, item["entry_point"]), item["entry_point"], item.get("prompt") or "")


# --- registration (owned by the scorers helper): scorer "code" reads thinkpack_test / _entry_point / _code_prompt


def _code_item(answer: str, doc) -> dict:
    return {"text": answer, "test": doc["thinkpack_test"], "entry_point": doc["thinkpack_entry_point"],
            "prompt": doc.get("thinkpack_code_prompt") or None}


def _score_code_many(items) -> list[ScoreResult]:
    """All programs of a batch at once on the sandbox's workers (grouped by time limit, order kept)."""
    out: list[ScoreResult | None] = [None] * len(items)
    groups: dict[tuple, list[int]] = {}
    for i, (_answer, doc) in enumerate(items):
        groups.setdefault(tuple(doc_timeout(doc).items()), []).append(i)
    for key, idx in groups.items():
        verdicts = check_code_many([_code_item(*items[i]) for i in idx], **dict(key))
        for i, v in zip(idx, verdicts, strict=True):
            out[i] = v
    return out  # type: ignore[return-value]


@register_scorer("code", many=_score_code_many)
def score_code(answer: str, doc) -> ScoreResult:
    """Scorer ``code``: run the answer's code against ``thinkpack_test`` in the sandbox."""
    return check_code(answer, doc["thinkpack_test"], doc["thinkpack_entry_point"],
                      prompt=doc.get("thinkpack_code_prompt") or None, **doc_timeout(doc))
