"""MATH-500 / AIME answers: extract the final ``\\boxed{}`` answer and check it against the gold answer.

Checking runs in two stages:

1. a fast path in this process: light LaTeX normalization and string equality, then rational
   comparison when both sides are plain numbers (``"033"`` vs ``"33"``, ``"0.5"`` vs ``"\\frac{1}{2}"``);
   one tolerance policy, Math-Verify's, for both stages: numbers compare exactly unless one side is
   written as a decimal, then at 6 decimal places (``0.333333`` is ``1/3``; :func:`numbers_match`);
2. otherwise symbolic equivalence via ``math_verify`` (falling back to sympy) in a persistent worker
   process. The caller waits on a pipe with a deadline; when the deadline passes the worker is killed
   (and a fresh one is started on the next call), so the time limit is hard and works from any thread.
   Idle workers are pooled, so concurrent threads each get their own worker.

Nothing here raises on model text. Bad argument types/values raise ``TypeError``/``ValueError``.
"""

from __future__ import annotations

import atexit
import json
import math as _pymath
import os
import re
import select
import signal
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from typing import NamedTuple

from ._text import NO_SIGNAL, as_text, boxed_spans, last_answer, last_boxed, strip_wrappers
from .registry import doc_gold, doc_timeout, register_scorer, safe_check
from .result import ScoreResult

__all__ = [
    "MathScoreResult",
    "check_math",
    "extract_boxed",
    "final_boxes",
    "math_equal",
    "math_stats",
    "normalize_latex",
    "numbers_match",
    "reset_math_stats",
    "shutdown_math_workers",
    "timeout_count",
]

MathScoreResult = ScoreResult  # alias kept for readability at call sites

#: Answers longer than this (after extraction) are not sent to the symbolic checker.
MAX_SYMBOLIC_CHARS = 2000
#: Per-worker address-space limit for the symbolic checker (MiB); 0 disables it.
WORKER_MEMORY_MB = 4096
#: How long to wait for a freshly started worker to import its backend (not counted in ``timeout``).
WORKER_STARTUP_TIMEOUT = 120.0

# --------------------------------------------------------------------------------------------------
# Extraction
# --------------------------------------------------------------------------------------------------

_FALLBACK_RE = re.compile(
    r"answer[\s*]*(?:is\b|:|=)[\s*:]*",
    re.IGNORECASE,
)
_PROSE_WORD_RE = re.compile(r"\s+(?:[A-Za-z]{3,}|is|are|was)\b")  # "1/2 because", "34 is the largest"
_MATHY_RE = re.compile(r"[\d\\^=+*/]")
_SENTENCE_END_RE = re.compile(r"\.(?:\s|$)")
_PLAIN_ANSWER_RE = re.compile(r"(-?\d[\d,]*(?:\.\d+)?)(?:\.|\s|$)")
_INLINE_MATH_RE = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]")


# What may stand between two boxes of one answer: math delimiters, commas, "and"/"or" (also as
# ``\\text{ for part (a) and }``), spacing, a left-hand side ("$x = \\boxed{1}$ or $x = \\boxed{-1}$"),
# up to three words (units) before such a connector ("\\boxed{1} papers and \\boxed{2}").
# Other prose between boxes ends the run.
_BOX_JOINER_RE = re.compile(
    r"(?:\s|\$|\\[()\[\]]|[,;&]|\\\\|\\q?quad(?![A-Za-z])|\\[,;:! ]|(?<![A-Za-z])(?:and|or)(?![A-Za-z])"
    r"|\\text\{[^{}]{0,40}?(?<![A-Za-z])(?:and|or)(?![A-Za-z])[^{}]{0,40}\}|\\text\{\s*,?\s*\}"
    r"|(?:[A-Za-z]|\\[A-Za-z]+)(?:_\{?\w+\}?)?\s*=|(?:[A-Za-z]+ ){1,3}(?=and |or |,))*"
)
_MAX_JOINER = 80
#: At most this many boxes make one answer (Math-Verify joins up to six).
MAX_JOINED_BOXES = 6


def final_boxes(text: str) -> list[str]:
    """The contents of the boxes that make the final answer: the last box, and the boxes right before it
    joined to it only by math delimiters, commas, "and"/"or" or a left-hand side
    (``\\boxed{-2} and \\boxed{1}``; ``$x = \\boxed{1 + \\sqrt{19}}$ or $x = \\boxed{1 - \\sqrt{19}}$``).
    Repeated contents are kept once. ``[]`` without a box."""
    spans = boxed_spans(text)
    if not spans:
        return []
    run = [spans[-1]]
    for prev in reversed(spans[:-1]):
        if len(run) >= MAX_JOINED_BOXES:
            break
        gap = text[prev.end : run[-1].start]
        if len(gap) > _MAX_JOINER or _BOX_JOINER_RE.fullmatch(gap) is None:
            break
        run.append(prev)
    contents: list[str] = []
    for span in reversed(run):
        content = text[span.lo : span.hi]
        if content not in contents:
            contents.append(content)
    return contents


def extract_boxed(text: str | None) -> str | None:
    """The final answer of a MATH-style response.

    The last answer given wins (:func:`~lm_eval_thinkpack.scoring._text.last_answer`, the rule every
    scorer follows): the last complete ``\\boxed{...}`` (or ``\\fbox{...}``), with balanced braces, or what
    follows the last ``Answer:`` / ``The final answer is`` on its line, whichever comes later (after a box,
    a marker counts only when it gives math or a plain number). An answer split over several boxes
    (:func:`final_boxes`) is their contents joined by ``", "`` (a set, as Math-Verify reads it). A marker
    followed by a sentence gives the sentence's final value (``Final Answer: The largest $n$ is 34.`` is
    ``34``). A box cut off before its closing brace (``The answer is \\boxed{6``) is no answer. ``None`` if
    there is no answer.
    """
    text = as_text(text)
    if not text:
        return None
    try:
        found = last_answer(
            text,
            boxed_spans(text),
            list(_FALLBACK_RE.finditer(text)),
            lambda marker, after_box: _marker_answer(text, marker.end(), math_only=after_box),
            lambda _box: ", ".join(final_boxes(text)),
        )
        return None if found is NO_SIGNAL else found
    except (RecursionError, MemoryError):  # pragma: no cover - defensive
        return None


_LINK_RE = re.compile(r"(?<![A-Za-z])(?:is|are|was|were|equals|be|becomes)(?![A-Za-z])|=")
_SENTENCE_START_RE = re.compile(r"(?:[A-Za-z]{2,},?|I)[ \t]")  # "The ...", "Therefore, ...", "I found ..."


def _marker_answer(text: str, pos: int, *, math_only: bool) -> str | None:
    """What follows an ``Answer:`` / ``The final answer is`` marker ending at ``pos``, on its line.
    ``math_only``: only an answer written as math (``$...$``) or a plain number counts."""
    eol = text.find("\n", pos)
    ans = text[pos : eol if eol != -1 else len(text)].strip()
    if not ans:
        return None
    m = _INLINE_MATH_RE.match(ans)
    if m is not None:  # "The final answer is $x^2$. Done." -> "x^2"
        ans = next(g for g in m.groups() if g is not None)
    elif math_only:  # a plain number, or a sentence whose "is" / "=" gives one ("The largest $n$ is 34.")
        if _SENTENCE_START_RE.match(ans):
            ans = _sentence_value(_first_sentence(ans), linked_only=True) or ""
            m = _INLINE_MATH_RE.fullmatch(ans)
            if m is not None:
                return strip_wrappers(next(g for g in m.groups() if g is not None)) or None
        m = _PLAIN_ANSWER_RE.match(ans)
        if m is None:
            return None
        ans = m.group(1)
    else:  # plain text: keep the first sentence ("5. I hope it is correct." -> "5")
        ans = _first_sentence(ans)
        if _SENTENCE_START_RE.match(ans):
            ans = _sentence_value(ans)
        # ... and drop trailing prose after a mathematical answer ("1/2 because ..." -> "1/2"),
        # but keep word answers ("Evelyn") and words inside braces ("5\text{ dollars}").
        word = _PROSE_WORD_RE.search(ans)
        if word is not None:
            head = ans[: word.start()]
            if _MATHY_RE.search(head) and head.count("{") == head.count("}"):
                ans = head
    ans = strip_wrappers(ans)
    return ans or None


def _masked(s: str) -> str:
    """``s`` with its inline math blanked out (same length), so words inside math are not prose."""
    return _INLINE_MATH_RE.sub(lambda m: " " * len(m.group()), s)


def _first_sentence(s: str) -> str:
    for m in _SENTENCE_END_RE.finditer(_masked(s)):
        return s[: m.start()]
    return s


def _sentence_value(s: str, *, linked_only: bool = False) -> str | None:
    """The final value of a sentence (``The largest $n$ is 34`` -> ``34``): what follows its last "is" /
    "are" / "=" outside math, else its last math; a sentence with neither is itself the answer (``No
    solution``)."""
    links = list(_LINK_RE.finditer(_masked(s)))
    if links:
        rest = s[links[-1].end() :].strip()
        if rest:
            m = _INLINE_MATH_RE.match(rest)
            return next(g for g in m.groups() if g is not None) if m is not None else rest
    if linked_only:
        return None
    maths = list(_INLINE_MATH_RE.finditer(s))
    if maths:
        return next(g for g in maths[-1].groups() if g is not None)
    return s


# --------------------------------------------------------------------------------------------------
# Normalization
# --------------------------------------------------------------------------------------------------

_TEXT_MACRO_RE = re.compile(r"\\(?:text|textbf|textit|textnormal|textrm|mathrm|mathbf|mbox)\s*\{([^{}]*)\}")
_SPACING_RE = re.compile(r"\\(?:[,;:! ]|quad(?![A-Za-z])|qquad(?![A-Za-z]))|~")
_LEFT_RIGHT_RE = re.compile(r"\\(?:left|right|big|Big|bigg|Bigg)(?![A-Za-z])")
_DEGREE_RE = re.compile(r"\^\s*\{?\s*\\circ\s*\}?|\\circ(?![A-Za-z])|\\degree(?![A-Za-z])|°")
_FRAC_SHORT_RE = re.compile(r"\\frac(?:\s*(\d)|\s*(\{[^{}]*\}))(?:\s*(\d)|\s*(\{[^{}]*\}))")
_SQRT_SHORT_RE = re.compile(r"\\sqrt\s*([0-9A-Za-z])")
_LHS_RE = re.compile(r"^(?:[A-Za-z]|\\[A-Za-z]+)\s*=(?!=)")
_CHOICE_RE = re.compile(r"^\(([A-Z])\)$")
_THOUSANDS_RE = re.compile(r"^-?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_SPACED_COMMA_RE = re.compile(r",\s")


def _frac_short(m: re.Match[str]) -> str:
    num = m.group(1) if m.group(1) is not None else m.group(2)[1:-1]
    den = m.group(3) if m.group(3) is not None else m.group(4)[1:-1]
    return "\\frac{" + num + "}{" + den + "}"


def normalize_latex(s: str) -> str:
    """Light, meaning-preserving normalization of a LaTeX answer for string comparison.

    Strips math delimiters, ``\\left``/``\\right``, spacing macros, ``\\text{}``-style wrappers, degree
    signs, ``%`` and ``$``, whitespace, a trailing period and a single-variable left-hand side
    (``x=3`` -> ``3``); rewrites ``\\dfrac``/``\\tfrac`` to ``\\frac``, ``\\frac12`` to ``\\frac{1}{2}``,
    ``\\sqrt2`` to ``\\sqrt{2}``, ``(B)`` to ``B`` and ``1,000`` to ``1000``.
    """
    if not isinstance(s, str):
        raise TypeError(f"normalize_latex expects a str, got {type(s).__name__}")
    s = strip_wrappers(s)
    if s.startswith(("\\boxed", "\\fbox")):
        inner = last_boxed(s)
        if inner is not None:
            s = strip_wrappers(inner)
    for _ in range(8):  # innermost-first; nesting deeper than this is left alone
        new = _TEXT_MACRO_RE.sub(r"\1", s)
        if new == s:
            break
        s = new
    s = _LEFT_RIGHT_RE.sub("", s)
    s = _SPACING_RE.sub("", s)
    s = s.replace("\\displaystyle", "").replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    s = _DEGREE_RE.sub("", s)
    s = s.replace("\\%", "").replace("%", "").replace("\\$", "").replace("$", "")
    s = s.replace("{,}", ",")
    listed = _SPACED_COMMA_RE.search(s) is not None  # "32, 349" is two numbers, "32,349" one
    s = "".join(s.split())
    s = _FRAC_SHORT_RE.sub(_frac_short, s)
    s = _SQRT_SHORT_RE.sub(r"\\sqrt{\1}", s)
    if s.count("=") == 1:
        s = _LHS_RE.sub("", s)
    s = s.rstrip(".")
    m = _CHOICE_RE.match(s)
    if m is not None:
        s = m.group(1)
    if not listed and _THOUSANDS_RE.match(s):
        s = s.replace(",", "")
    return s


_PLAIN_NUMBER_RE = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$")
_PLAIN_FRAC_RE = re.compile(r"^([+-]?)\\frac\{([+-]?\d+)\}\{([+-]?\d+)\}$|^([+-]?\d+)/(\d+)$")


def _plain_number(s: str) -> Fraction | None:
    """Exact value of a normalized answer that is just a number or an integer fraction."""
    if len(s) > 60:
        return None
    if _PLAIN_NUMBER_RE.match(s):
        return Fraction(s)
    m = _PLAIN_FRAC_RE.match(s)
    if m is None:
        return None
    if m.group(2) is not None:
        sign, num, den = m.group(1), int(m.group(2)), int(m.group(3))
    else:
        sign, num, den = "", int(m.group(4)), int(m.group(5))
    if den == 0:
        return None
    value = Fraction(num, den)
    return -value if sign == "-" else value


#: Decimal places a decimal answer is compared at (Math-Verify's ``float_rounding`` default).
FLOAT_ROUNDING = 6


def numbers_match(a: Fraction, b: Fraction, *, decimal: bool) -> bool:
    """The one tolerance policy for numbers, Math-Verify's: exact, unless one side is written as a decimal
    (``0.333333``), then both are compared rounded to :data:`FLOAT_ROUNDING` places (``0.333333`` equals
    ``1/3``, ``0.33`` does not). The symbolic path (Math-Verify in the worker) applies the same rule to
    decimals against expressions (``0.707107`` vs ``\\frac{\\sqrt{2}}{2}``)."""
    if a == b:
        return True
    return decimal and round(a, FLOAT_ROUNDING) == round(b, FLOAT_ROUNDING)


# --------------------------------------------------------------------------------------------------
# Worker process pool (hard time limit)
# --------------------------------------------------------------------------------------------------

_WORKER_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_math_worker.py")
# Run the worker file by path without putting its directory (which holds this "math.py") on sys.path.
_BOOT = "import runpy, sys; sys.path[:] = [p for p in sys.path if p]; runpy.run_path(sys.argv[1], run_name='__main__')"


class _WorkerDied(Exception):
    pass


class _Worker:
    """One child process running ``_math_worker.py``; used by one thread at a time."""

    def __init__(self, memory_mb: int, startup_timeout: float) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _BOOT, _WORKER_PATH, str(int(memory_mb))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            close_fds=True,
        )
        self._fd = self.proc.stdout.fileno()
        self._poll = select.poll()
        self._poll.register(self._fd, select.POLLIN | select.POLLHUP | select.POLLERR)
        self._buf = b""
        try:
            hello = self._read_line(startup_timeout)
        except BaseException:  # died, garbled greeting, interrupted: never leave the child behind
            self.kill()
            raise
        if hello is None or not hello.get("ready"):
            self.kill()
            raise _WorkerDied("worker did not start")
        self.backend = str(hello.get("backend"))

    def _read_line(self, timeout: float) -> dict | None:
        """Next reply, ``None`` if ``timeout`` passes first; ``_WorkerDied`` on EOF."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buf:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            if not self._poll.poll(max(1, _pymath.ceil(remaining * 1000))):
                continue
            chunk = os.read(self._fd, 65536)
            if not chunk:
                raise _WorkerDied("worker exited")
            self._buf += chunk
        line, _, self._buf = self._buf.partition(b"\n")
        return json.loads(line)

    def ask(self, gold: str, pred: str, timeout: float) -> dict | None:
        payload = json.dumps({"g": gold, "p": pred, "t": timeout}).encode() + b"\n"
        try:
            # Payloads are capped well below the pipe buffer, so this write cannot block.
            self.proc.stdin.write(payload)
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise _WorkerDied("worker pipe closed") from exc
        return self._read_line(timeout)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        try:
            self.proc.kill()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL not delivered
            pass
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass

    def close(self) -> None:
        """Polite shutdown: closing stdin makes the worker exit; kill it if it lingers."""
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=1)
        except subprocess.TimeoutExpired:
            pass
        self.kill()


class _Pool:
    """Idle workers shared by all threads; a thread checks one out for the duration of a call.

    A worker that had to be killed (timeout, crash) is replaced in the background at once; a call that
    finds no idle worker while a replacement is warming waits for it instead of starting a second
    interpreter beside it (two start-ups on a small machine made every call slow).
    """

    def __init__(self, max_workers: int, max_idle: int) -> None:
        self._max_workers = max_workers
        self._max_idle = max_idle
        self._reset()

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._slots = threading.BoundedSemaphore(self._max_workers)
        self._idle: list[_Worker] = []
        self._busy: set[_Worker] = set()
        self._warming = 0  # replacements being started in the background
        self._waiting = 0  # calls waiting for one of them

    def acquire(self) -> _Worker:
        self._slots.acquire()
        try:
            dead: list[_Worker] = []
            with self._cond:
                deadline = time.monotonic() + WORKER_STARTUP_TIMEOUT
                while True:
                    while self._idle:
                        w = self._idle.pop()
                        if w.alive():
                            self._busy.add(w)
                            break
                        dead.append(w)
                    else:
                        w = None
                    if w is not None:
                        break
                    remaining = deadline - time.monotonic()
                    if self._warming > self._waiting and remaining > 0:
                        self._waiting += 1
                        try:
                            self._cond.wait(remaining)
                        finally:
                            self._waiting -= 1
                        continue
                    break
            for d in dead:
                d.kill()
            if w is not None:
                return w
            _stats.bump("worker_starts")
            w = _Worker(WORKER_MEMORY_MB, WORKER_STARTUP_TIMEOUT)
            with self._cond:
                self._busy.add(w)
            return w
        except BaseException:
            self._slots.release()
            raise

    def release(self, w: _Worker, *, healthy: bool) -> None:
        try:
            with self._cond:
                self._busy.discard(w)
            if healthy and w.alive():
                with self._cond:
                    if len(self._idle) < self._max_idle:
                        self._idle.append(w)
                        self._cond.notify()
                        return
                w.close()
            else:
                w.kill()
                # warm a replacement now, so the next call does not pay the interpreter start-up
                with self._cond:
                    if len(self._idle) + self._warming >= self._max_idle:
                        return
                    self._warming += 1
                threading.Thread(target=self._prestart, name="thinkpack-math-prestart", daemon=True).start()
        finally:
            self._slots.release()

    def _prestart(self) -> None:
        w: _Worker | None = None
        try:
            _stats.bump("worker_starts")
            w = _Worker(WORKER_MEMORY_MB, WORKER_STARTUP_TIMEOUT)
        except (_WorkerDied, OSError, ValueError):
            w = None  # acquire() starts one on demand and reports the failure there
        finally:
            with self._cond:
                self._warming -= 1
                if w is not None and len(self._idle) < self._max_idle:
                    self._idle.append(w)
                    w = None
                self._cond.notify_all()
        if w is not None:
            w.close()

    def settle(self, timeout: float = WORKER_STARTUP_TIMEOUT) -> bool:
        """Wait until no replacement is warming (tests, benchmarks); ``False`` if ``timeout`` passed first."""
        with self._cond:
            return self._cond.wait_for(lambda: self._warming == 0, timeout)

    def pids(self) -> dict[str, list[int]]:
        """Process ids of the idle and busy workers (tests kill them to play a harness fault)."""
        with self._cond:
            return {"idle": [w.proc.pid for w in self._idle], "busy": [w.proc.pid for w in self._busy]}

    def shutdown(self) -> None:
        with self._cond:
            idle, self._idle = self._idle, []
        for w in idle:
            w.close()

    def forget_after_fork(self) -> None:
        # A forked child must not talk to the parent's workers (their pipes are shared).
        self._reset()


class _Stats:
    _FIELDS = (
        "calls",
        "fast_path",
        "cache_hits",
        "worker_calls",
        "worker_starts",
        "timeouts",
        "errors",
        "retries",
        "harness_errors",
    )

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(self._FIELDS, 0)

    def bump(self, field: str, n: int = 1) -> None:
        with self._lock:
            self._counts[field] += n

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def reset(self) -> None:
        with self._lock:
            self._counts = dict.fromkeys(self._FIELDS, 0)


_stats = _Stats()
_cpus = os.cpu_count() or 2
# Enough workers for several scoring threads at once: a call only waits for a slot when more threads than
# this score concurrently. The time limit bounds the check itself, not that wait.
_pool = _Pool(max_workers=max(4, 2 * _cpus), max_idle=max(4, 2 * _cpus))
_cache_lock = threading.Lock()
_cache: OrderedDict[tuple[str, str], bool] = OrderedDict()
_CACHE_SIZE = 8192

atexit.register(_pool.shutdown)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_pool.forget_after_fork)


def math_stats() -> dict[str, int]:
    """Counters since start (or :func:`reset_math_stats`): calls, fast_path, cache_hits, worker_calls,
    worker_starts, timeouts, errors (errors include timeouts and harness errors), retries (after a harness
    fault), harness_errors."""
    return _stats.snapshot()


def timeout_count() -> int:
    """How many symbolic checks hit the hard time limit."""
    return _stats.snapshot()["timeouts"]


def reset_math_stats() -> None:
    _stats.reset()


def shutdown_math_workers() -> None:
    """Stop idle worker processes (they are restarted on demand). Also runs at interpreter exit."""
    _pool.shutdown()


#: How many times a check is retried on a fresh worker after a harness fault (worker killed from outside,
#: worker that cannot start, broken pipe) before the verdict is a harness error.
HARNESS_RETRIES = 2
# Exit signals that come from outside the worker (someone killed it), not from the answer it was checking.
_EXTERNAL_SIGNALS = frozenset({-signal.SIGKILL, -signal.SIGTERM, -signal.SIGHUP, -signal.SIGINT, -signal.SIGQUIT})


class _Verdict(NamedTuple):
    ok: bool
    error: str | None = None
    harness: bool = False


def _exit_code(worker: _Worker) -> int | None:
    try:
        return worker.proc.wait(timeout=1)
    except subprocess.TimeoutExpired:
        return None


def _symbolic(pred: str, gold: str, timeout: float) -> _Verdict:
    key = (pred, gold)
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
    if hit is not None:
        _stats.bump("cache_hits")
        return _Verdict(hit)
    failure = "worker_start_failed"
    crashes = 0
    for attempt in range(HARNESS_RETRIES + 1):
        if attempt:
            _stats.bump("retries")
        try:
            worker = _pool.acquire()
        except (_WorkerDied, OSError, ValueError) as exc:
            failure = "worker_start_failed" if isinstance(exc, _WorkerDied) else type(exc).__name__
            continue
        _stats.bump("worker_calls")
        healthy = False
        try:
            reply = worker.ask(gold, pred, timeout)
            if reply is None:
                _stats.bump("timeouts")
                return _Verdict(False, "timeout")  # the answer took too long: the model's, not the harness's
            healthy = True
            err = reply.get("err")
            ok = bool(reply.get("ok")) and err is None
            if err is None:
                with _cache_lock:
                    _cache[key] = ok
                    if len(_cache) > _CACHE_SIZE:
                        _cache.popitem(last=False)
            return _Verdict(ok, str(err) if err is not None else None)
        except _WorkerDied:
            code = _exit_code(worker)
            if code is not None and code not in _EXTERNAL_SIGNALS:
                crashes += 1  # it died on its own while checking this answer
                if crashes >= 2:  # twice on fresh workers: the answer crashes the checker
                    return _Verdict(False, "worker_crashed")
            failure = f"worker_killed({code})" if code in _EXTERNAL_SIGNALS else "worker_crashed"
        except (OSError, ValueError) as exc:  # broken pipe, undecodable reply
            failure = type(exc).__name__
        finally:
            # A worker that timed out or died is replaced by a fresh one, warmed in the background.
            _pool.release(worker, healthy=healthy)
    _stats.bump("harness_errors")
    return _Verdict(False, f"harness: {failure} after {HARNESS_RETRIES + 1} attempts", True)


# --------------------------------------------------------------------------------------------------
# Public checking API
# --------------------------------------------------------------------------------------------------


def _check_timeout(timeout: object) -> float:
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"timeout must be a number of seconds, got {type(timeout).__name__}")
    if not _pymath.isfinite(timeout) or timeout <= 0:
        raise ValueError(f"timeout must be a positive finite number of seconds, got {timeout!r}")
    return float(timeout)


def _gold_text(gold: object) -> str:
    if isinstance(gold, bool) or not isinstance(gold, (str, int)):
        raise TypeError(f"gold must be a str (or int), got {type(gold).__name__}")
    gold = str(gold)
    if "\\boxed" in gold or "\\fbox" in gold:  # a full MATH solution was passed as gold: its final boxes
        gold = ", ".join(final_boxes(gold)) or gold
    return gold


def _compare(pred: str, gold: str, timeout: float) -> _Verdict:
    _stats.bump("calls")
    try:
        np_, ng = normalize_latex(pred), normalize_latex(gold)
    except (RecursionError, MemoryError):  # pragma: no cover - defensive
        np_, ng = pred, gold
    if np_ and np_ == ng:
        _stats.bump("fast_path")
        return _Verdict(True)
    if "%" not in pred and "%" not in gold:  # percent answers may legitimately mean x/100
        a, b = _plain_number(np_), _plain_number(ng)
        if a is not None and b is not None:
            _stats.bump("fast_path")
            return _Verdict(numbers_match(a, b, decimal="." in np_ or "." in ng))
    if not pred.strip():
        return _Verdict(False)
    if len(pred) > MAX_SYMBOLIC_CHARS or len(gold) > MAX_SYMBOLIC_CHARS:
        _stats.bump("errors")
        return _Verdict(False, "input_too_long")
    verdict = _symbolic(pred, gold, timeout)
    if verdict.error is not None:
        _stats.bump("errors")
    return verdict


def math_equal(pred: str | None, gold: str | int, *, timeout: float = 5.0) -> bool:
    """Whether the answer ``pred`` (already extracted) equals ``gold``, mathematically.

    String-normalized equality first, then symbolic equivalence in a worker process under a hard
    ``timeout`` (seconds) per call. Returns ``False`` for ``None``, unparsable input and on timeout
    (see :func:`math_stats` / :func:`timeout_count`).
    """
    timeout = _check_timeout(timeout)
    gold = _gold_text(gold)
    pred = as_text(pred, "pred")
    if pred is None:
        return False
    return _compare(pred, gold, timeout).ok


def check_math(pred_text: str | None, gold: str | int, *, timeout: float = 5.0) -> ScoreResult:
    """Extract the final answer from a response and check it: ``ScoreResult(correct, extracted, error)``.

    ``error`` is ``None`` for a trustworthy verdict, else ``"timeout"``, ``"worker_crashed"`` (the answer
    crashed the checker on two fresh workers), ``"input_too_long"`` or an exception type name from the
    checker. A harness fault (worker killed from outside, a worker that cannot start) is retried on a fresh
    worker :data:`HARNESS_RETRIES` times; only then the verdict is ``harness_error=True`` with
    ``error="harness: ..."``, never counted against the model.
    """
    timeout = _check_timeout(timeout)
    gold = _gold_text(gold)
    extracted = extract_boxed(pred_text)
    if extracted is None:
        return ScoreResult(False, None, None)
    verdict = _compare(extracted, gold, timeout)
    return ScoreResult(verdict.ok, extracted, verdict.error, verdict.harness)


def _score_math_many(items) -> list[ScoreResult]:
    """A batch on up to one thread per core: each symbolic check waits on its own worker process."""
    if len(items) < 2:
        return [safe_check(score_math, answer, doc, "math") for answer, doc in items]
    with ThreadPoolExecutor(max_workers=min(len(items), _cpus), thread_name_prefix="thinkpack-math") as ex:
        return list(ex.map(lambda item: safe_check(score_math, item[0], item[1], "math"), items))


@register_scorer("math", many=_score_math_many)
def score_math(answer: str, doc) -> ScoreResult:
    """Scorer ``math``: LaTeX ``thinkpack_gold``; ``thinkpack_timeout`` bounds the symbolic check."""
    return check_math(answer, doc_gold(doc), **doc_timeout(doc))
