"""Checks a run gets before it generates anything: settings that would make the numbers wrong, said in one line.

Used by the thinkpack tasks' loader and, for foreign tasks, by the any-task layer (call the same functions):

* ``check_chat_template()``: a model that has a chat template, asked with prompts that were not rendered with
  it (``--apply_chat_template`` left out: lm-eval needs it for few tasks, so it is easy to forget), answers
  outside its chat format; its traces read as lost and a
  collapse gate would fire on a setting. Refused with the fix.
* ``fit_budget()``: a ``max_gen_toks`` the model's context cannot hold (the tasks ask 32768; the bundled model
  has 512 positions) makes lm-eval's hf model stop with an AssertionError, and a prompt plus budget above the
  context has its prompt cut from the left without a word. The budget is clipped to what the longest prompt
  leaves, with one warning naming both numbers.
* ``check_metadata()``: the thinkpack keys of ``--metadata`` / ``--model_args``, each checked for its type; a
  bad one is one line naming the key and the fix (``"trace_format": null``, ``"prefilled": 1`` included).
* ``warn_once()``: a warning that would repeat per task is logged once; how often it repeated is said once at
  the end of the process. ``collapse_lm_eval_repeats()`` does the same for lm-eval's own per-task warnings.
* ``install_error_hook()``: a ``ThinkpackConfigError`` (or a data, format or scorer error of thinkpack's)
  that ends an ``lm_eval`` run prints as its one line, not as a 50-line traceback. Only uncaught exceptions
  reach the hook: a Python caller still gets the exception.

What the run is (is the chat template applied, which model, which ``--gen_kwargs``) is read from lm-eval 0.4.13's
own ``simple_evaluate`` / ``evaluate`` frames on the call stack: their ``apply_chat_template``, ``lm`` and
``gen_kwargs`` arguments (``harness.compat`` pins the lm-eval range; ``tests/harness/test_preflight.py`` checks
the names). Outside such a run (a task built by hand) nothing is known and nothing is refused.
"""

from __future__ import annotations

import atexit
import logging
import math
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("lm_eval_thinkpack.harness")

APPLY_FIX = "add --apply_chat_template"


class ThinkpackConfigError(ValueError):
    """The run is configured in a way that makes trace classification impossible or wrong."""


# --------------------------------------------------------------------------------------------- the run


@dataclass(frozen=True)
class RunFacts:
    """What the running lm-eval evaluation was asked for (None: not known)."""

    applied: bool | None = None        # prompts rendered with the model's chat template
    lm: Any = None                     # the lm-eval model object
    gen_kwargs: Mapping[str, Any] | None = None  # --gen_kwargs (they override every task's YAML)


_RUN_FUNCTIONS = ("simple_evaluate", "evaluate")


def run_facts() -> RunFacts:
    """The nearest lm-eval ``simple_evaluate`` / ``evaluate`` call on this thread's stack, read from its arguments."""
    frame = sys._getframe(1)
    while frame is not None:
        code = frame.f_code
        if code.co_name in _RUN_FUNCTIONS and code.co_filename.replace("\\", "/").endswith("lm_eval/evaluator.py"):
            local = frame.f_locals
            applied = local.get("apply_chat_template")
            gen = local.get("gen_kwargs")
            return RunFacts(applied=None if applied is None else bool(applied), lm=local.get("lm"),
                            gen_kwargs=gen if isinstance(gen, Mapping) else None)
        frame = frame.f_back
    return RunFacts()


def _inner(lm: Any) -> Any:
    """The model under lm-eval's ``CachingLM`` (``--use_cache``), or the model itself."""
    from lm_eval.api.model import CachingLM

    return lm.lm if isinstance(lm, CachingLM) else lm


def model_has_chat_template(lm: Any) -> bool | None:
    """True when the model renders chats with a template of its own; None when the model does not say.

    A chat-completions server always applies its model's template; a local model (hf, vllm, a completions
    API with a tokenizer) has one when its tokenizer carries ``chat_template``."""
    if lm is None:
        return None
    lm = _inner(lm)
    from lm_eval.models.openai_completions import LocalChatCompletion

    if isinstance(lm, LocalChatCompletion):
        return True
    tok = getattr(lm, "tokenizer", None)
    if tok is None or not hasattr(tok, "chat_template"):
        return None
    return bool(getattr(tok, "chat_template", None))


def _model_name(lm: Any) -> str:
    lm = _inner(lm)
    for attr in ("pretrained", "model"):
        name = getattr(lm, attr, None)
        if isinstance(name, str) and name:
            return name
    tok = getattr(lm, "tokenizer", None)
    name = getattr(tok, "name_or_path", None)
    return str(name) if name else type(lm).__name__


def check_chat_template(applied: bool | None = None, has_template: bool | None = None,
                        model: str | None = None) -> None:
    """Refuse prompts that skip the chat template of a model that has one (``ThinkpackConfigError``, one line).

    Arguments left as None are read from the running lm-eval evaluation (``run_facts``); when either stays
    unknown nothing is refused."""
    if applied is None or has_template is None:
        facts = run_facts()
        applied = facts.applied if applied is None else applied
        if has_template is None:
            has_template = model_has_chat_template(facts.lm)
        if model is None and facts.lm is not None:
            model = _model_name(facts.lm)
    if applied is False and has_template:
        who = f"the model {model}" if model else "the model"
        raise ThinkpackConfigError(
            f"{who} has a chat template but the prompts are not rendered with it, so it answers outside its chat "
            f"format and its traces read as lost: a false collapse. Fix: {APPLY_FIX}")


# ------------------------------------------------------------------------------------------ the budget

_BUDGET_ATTR = "_thinkpack_fit_budget"


def fit_budget(lm: Any = None) -> None:
    """Make ``lm.generate_until`` clip each request's ``max_gen_toks`` to what its context leaves.

    The clip is one value for every request with the same budget: the model's context minus the longest
    prompt, so no prompt is cut and every sample has the same budget. Installed once per model object, for
    local models only (an API model's ``max_length`` is a client default, not the server's context)."""
    if lm is None:
        lm = run_facts().lm
    if lm is None or getattr(lm, _BUDGET_ATTR, False):
        return
    inner = _inner(lm)
    from lm_eval.models.api_models import TemplateAPI

    if isinstance(inner, TemplateAPI) or not callable(getattr(inner, "tok_encode", None)):
        return
    try:
        context = int(inner.max_length)
    except Exception:  # noqa: BLE001 - a model that cannot say its context is left as it is
        return
    original = lm.generate_until

    def generate_until(requests, *args: Any, **kwargs: Any):
        clip_requests(requests, context, inner.tok_encode)
        return original(requests, *args, **kwargs)

    lm.generate_until = generate_until
    setattr(lm, _BUDGET_ATTR, True)


def clip_requests(requests: list[Any], context: int, encode: Any) -> list[tuple[int, int]]:
    """Clip ``max_gen_toks`` of ``requests`` (lm-eval ``Instance``s of ``generate_until``) in place.

    Returns the (asked, given) pairs that were clipped. A budget is clipped when prompt + budget would not fit
    in ``context`` tokens for the longest prompt among the requests that share it."""
    by_budget: dict[int, list[Any]] = {}
    for req in requests:
        gen = req.arguments[1] if len(req.arguments) > 1 else None
        asked = gen.get("max_gen_toks") if isinstance(gen, Mapping) else None
        if isinstance(asked, int) and not isinstance(asked, bool):
            by_budget.setdefault(asked, []).append(req)
    clipped = []
    for asked, reqs in by_budget.items():
        if asked + max(len(str(r.arguments[0])) for r in reqs) + 2 <= context:
            continue  # cheap bound: a prompt has at most one token per character (+ BOS/EOS)
        longest = max(len(encode(r.arguments[0])) for r in reqs)
        given = context - longest
        if asked <= given:
            continue
        if given < 1:
            log.warning("lm-eval-thinkpack: the longest prompt has %d tokens, the model's whole context (%d); lm-eval "
                        "will cut prompts from the left. Fix: a model with a longer context or shorter prompts",
                        longest, context)
            continue
        for r in reqs:
            r.arguments = (r.arguments[0], {**r.arguments[1], "max_gen_toks": given}, *r.arguments[2:])
        clipped.append((asked, given))
        log.warning("lm-eval-thinkpack: max_gen_toks=%d does not fit the model's context (%d tokens; the longest "
                    "prompt has %d): clipped to %d, so generations that reach it end for length "
                    "(budget_exhausted_rate). Fix: --gen_kwargs max_gen_toks=%d or less says so yourself, or use "
                    "a model with a longer context",
                    asked, context, longest, given, given)
    return clipped


# ---------------------------------------------------------------------------------------- the metadata

_FORMAT_HELP = "a family name (lm-eval-thinkpack formats lists them) or a format spec object"


def _flag(kwargs: Mapping[str, Any], key: str) -> bool | None:
    if key not in kwargs:
        return None
    value = kwargs[key]
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ThinkpackConfigError(
        f"--metadata {key}={_show(value)}: expected true or false. Fix: --metadata '{{\"{key}\": true}}' or "
        f"'{{\"{key}\": false}}', or leave {key} out to have it detected")


def _show(value: Any) -> str:
    import json

    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def _positive(kwargs: Mapping[str, Any], key: str, unit: str) -> float | None:
    if kwargs.get(key) is None and key not in kwargs:
        return None
    value = kwargs[key]
    try:
        number = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        number = math.nan
    if not number > 0 or math.isinf(number):
        raise ThinkpackConfigError(f"--metadata {key}={_show(value)}: expected a positive number of {unit}. Fix: "
                                   f"--metadata '{{\"{key}\": N}}', or leave {key} out for the default")
    return number


def check_metadata(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The thinkpack keys of ``kwargs`` (``--model_args`` merged with ``--metadata``), checked: a bad value
    raises ``ThinkpackConfigError`` naming the key and the fix. Returns the flags as booleans."""
    out: dict[str, Any] = {}
    if "trace_format" in kwargs:
        fmt = kwargs["trace_format"]
        if fmt is None or (isinstance(fmt, str) and not fmt.strip()) or not isinstance(fmt, (str, Mapping)):
            raise ThinkpackConfigError(
                f"--metadata trace_format={_show(fmt)}: expected {_FORMAT_HELP}. Fix: --metadata "
                "'{\"trace_format\": \"qwen3\"}', or leave trace_format out to have it detected from the model")
    for key in ("prefilled", "thinking_disabled", "count_tokens"):
        value = _flag(kwargs, key)
        if value is not None:
            out[key] = value
    _positive(kwargs, "scoring_timeout", "seconds")
    _positive(kwargs, "max_record_mb", "megabytes")
    files = kwargs.get("data_files")
    if "data_files" in kwargs and not (isinstance(files, (str, Mapping)) and files):
        raise ThinkpackConfigError(
            f"--metadata data_files={_show(files)}: expected a JSONL path, or {{task name: path}}. Fix: --metadata "
            "'{\"data_files\": \"test.jsonl\"}' for one task, or '{\"data_dir\": \"DIR\"}' holding <task>.jsonl")
    if isinstance(files, Mapping):
        bad = [k for k, v in files.items() if not (isinstance(v, str) and v)]
        if bad:
            raise ThinkpackConfigError(f"--metadata data_files: the entry {bad[0]!r} is not a path. Fix: "
                                       "{\"TASK\": \"PATH.jsonl\", ...}")
    data_dir = kwargs.get("data_dir")
    if "data_dir" in kwargs and not (isinstance(data_dir, str) and data_dir):
        raise ThinkpackConfigError(f"--metadata data_dir={_show(data_dir)}: expected a folder holding <task>.jsonl. "
                                   "Fix: --metadata '{\"data_dir\": \"DIR\"}'")
    return out


# -------------------------------------------------------------------------------------------- warnings

_seen: dict[str, list[Any]] = {}
_seen_lock = threading.Lock()


def _first(key: str, logger: logging.Logger, text: str) -> bool:
    """True the first time ``key`` is seen; later calls are counted, and reported once at exit."""
    with _seen_lock:
        entry = _seen.get(key)
        if entry is not None:
            entry[1] += 1
            return False
        first = len(_seen) == 0
        _seen[key] = [logger, 0, text]
    if first:
        atexit.register(_report_repeats)
    return True


def warn_once(logger: logging.Logger, key: str, msg: str, *args: Any) -> None:
    """Log ``msg % args`` the first time ``key`` is seen; later ones are counted and reported once at exit."""
    if _first(key, logger, msg % args if args else msg):
        logger.warning(msg, *args)


#: lm-eval 0.4.13's warnings that come once per task built (every thinkpack task has a ``custom_dataset``; the demo
#: builds 5 tasks for each of its 6 models: 60 lines): (logger, text they hold)
LM_EVAL_REPEATS = (("lm_eval.api.task", "Custom kwargs can be passed to `--metadata`"),)


class _OnceFilter(logging.Filter):
    def __init__(self, marker: str) -> None:
        super().__init__()
        self.marker = marker

    def filter(self, record: logging.LogRecord) -> bool:
        if self.marker not in str(record.msg):
            return True
        return _first(f"lm-eval:{self.marker}", log, record.getMessage())


def collapse_lm_eval_repeats() -> None:
    """Show each of lm-eval's per-task warnings (``LM_EVAL_REPEATS``) once, counted as ``warn_once`` counts."""
    for name, marker in LM_EVAL_REPEATS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _OnceFilter) and f.marker == marker for f in logger.filters):
            logger.addFilter(_OnceFilter(marker))


def repeats() -> dict[str, int]:
    """How many more times each warning ``warn_once`` showed was asked for."""
    with _seen_lock:
        return {text: n for _, n, text in _seen.values() if n}


def _report_repeats() -> None:
    with _seen_lock:
        entries = list(_seen.values())
    for logger, n, text in entries:
        if n:
            text = " ".join(text.split())
            logger.warning("lm-eval-thinkpack: this warning was shown once and came %d more times: %s", n,
                           text[:120] + ("..." if len(text) > 120 else ""))


# ---------------------------------------------------------------------------------------- error lines


def user_errors() -> tuple[type[BaseException], ...]:
    """The exceptions that are a setting or an input to fix, never a bug: their message is the whole story."""
    from lm_eval_thinkpack.formats import FormatSpecError, UnknownFormatError

    from .adapters import DataFieldsError

    return (ThinkpackConfigError, DataFieldsError, FormatSpecError, UnknownFormatError)


def one_line(err: BaseException) -> str | None:
    """The one line for a user error (found in the exception or its causes), else None."""
    kinds = user_errors()
    seen = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        if isinstance(err, kinds) or getattr(err, "thinkpack_user_error", False):
            return " ".join(str(err).split())
        err = err.__cause__ or err.__context__
    return None


def install_error_hook(prefix: str = "lm-eval-thinkpack") -> None:
    """Print an uncaught thinkpack user error as ``PREFIX: message`` (exit status 1), anything else as before."""
    previous = sys.excepthook
    if getattr(previous, "_thinkpack", False):
        return

    def hook(kind, err, tb):
        line = one_line(err) if isinstance(err, BaseException) else None
        if line is None:
            previous(kind, err, tb)
        else:
            print(f"{prefix}: {line}", file=sys.stderr)

    hook._thinkpack = True  # type: ignore[attr-defined]
    sys.excepthook = hook


# ------------------------------------------------------------------------------------------ task files

BASE_FIX = ("name the base by class, which works from any folder: class: !function "
            "lm_eval_thinkpack.harness.bases.MathBase (or ScienceBase, CodeBase, DemoBase, TraceBase)")


def flag_values(args: list[str], flag: str) -> list[str]:
    """The values of ``flag`` in an lm-eval command line (``--flag X`` or ``--flag=X``), in order."""
    out = []
    for i, a in enumerate(args):
        if a == flag and i + 1 < len(args):
            out.append(args[i + 1])
        elif a.startswith(flag + "="):
            out.append(a.split("=", 1)[1])
    return out


def check_task_files(args: list[str]) -> None:
    """Before lm-eval runs: every YAML under ``--include_path`` that defines a requested task (``--tasks``) must
    load. lm-eval's task index skips a YAML it cannot read (an ``include`` that is not found, a YAML error) at
    debug level, and the run ends with "Tasks not found" and no reason; here it is one line naming the file."""
    from pathlib import Path

    from lm_eval.tasks._yaml_loader import load_yaml

    wanted = {t.strip() for v in flag_values(args, "--tasks") for t in v.split(",") if t.strip()}
    roots = [Path(p).expanduser() for v in flag_values(args, "--include_path") for p in v.split(",") if p]
    for root in roots:
        files = [root] if root.is_file() else sorted(root.glob("**/*.yaml")) if root.is_dir() else []
        for path in files:
            try:
                own = load_yaml(path, resolve_func=False, recursive=False)
            except Exception as err:  # noqa: BLE001 - the file itself is not YAML lm-eval can read
                raise ThinkpackConfigError(f"{path}: not a task YAML lm-eval can read ({' '.join(str(err).split())})."
                                           " Fix: repair the file") from None
            name = own.get("task") if isinstance(own, dict) else None
            if not isinstance(name, str) or name not in wanted:
                continue
            try:  # the include chain, and every `!function` (a base named by class) as lm-eval will import it
                load_yaml(path, resolve_func=True, recursive=True)
            except FileNotFoundError as err:
                if "include" not in own:
                    raise
                raise ThinkpackConfigError(
                    f"{path}: task {name}: its include {own['include']!r} is not found ({err.filename or err}); "
                    f"lm_eval would skip the file and say only 'Tasks not found'. A relative include is looked for "
                    f"next to the YAML. Fix: {BASE_FIX}") from None
            except (ImportError, AttributeError, ValueError) as err:  # a `!function` name that does not import
                raise ThinkpackConfigError(f"{path}: task {name}: {' '.join(str(err).split())}. Fix: correct the "
                                           f"name; to {BASE_FIX}") from None
            except Exception as err:  # noqa: BLE001
                if "include" not in own:
                    raise
                raise ThinkpackConfigError(f"{path}: task {name}: its include cannot be read "
                                           f"({' '.join(str(err).split())}). Fix: {BASE_FIX}") from None
