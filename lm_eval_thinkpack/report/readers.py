"""Read evaluation outputs into per-task samples: lm-eval output folders and JSONL generations of any engine.

Nothing here computes a metric: readers only turn files into ``Sample`` records (one per generation, with
its trace class) and, when an lm-eval run has no logged samples, keep the values of its results JSON.

Supported inputs (``load_run``):

* an lm-eval ``--output_path`` folder (or a model folder inside it, or a ``results_*.json`` file): the newest
  ``results_<timestamp>.json`` and the ``samples_<task>_<timestamp>.jsonl`` files of the same run
  (``--log_samples``). Tasks whose samples are absent keep the results JSON values.
* a JSONL of generations, one record a line, in any of three shapes:

  - plain: ``response`` / ``output`` / ``text`` (the generation), optional ``prompt``, ``correct``,
    ``task``, ``question_id`` / ``id``, ``finish_reason``, ``prefilled``;
  - OpenAI chat completion: ``choices[0].message.content`` and ``choices[0].message.reasoning_content``
    (or ``reasoning``); also the Batch API wrapper ``{"response": {"body": {...}}}``;
  - vLLM ``RequestOutput``: ``outputs[0].text``, ``outputs[0].finish_reason``, ``prompt``.

A server with a reasoning parser moves the trace into ``reasoning_content``: a non-blank one means the
trace was present and closed (valid), a blank one means an empty block, and a ``finish_reason`` of
"length" with no content means the budget ran out inside the trace (truncated). Without the field the
content is classified as text with ``classify``.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lm_eval_thinkpack.classify import classify, prompt_is_prefilled
from lm_eval_thinkpack.formats import UnknownFormatError, get_format
from lm_eval_thinkpack.generation import reassemble
from lm_eval_thinkpack.stats import ALL_TASKS, METRICS, MetricKind

# metrics with a value and a standard error in lm-eval results (the counts are read separately)
TRACE_METRICS = tuple(m.name for m in METRICS if m.kind is not MetricKind.COUNT)
COUNT_METRICS = tuple(m.name for m in METRICS if m.kind is MetricKind.COUNT)
RESPONSE_FIELDS = ("response", "output", "text")
PROGRESS_MIN_LINES = 10_000


class ReportError(Exception):
    """A problem with an input the user can fix: printed as one line (file, problem, fix), exit code 2."""


@dataclass
class Sample:
    """One generation: its trace class and what the report shows about it."""

    task: str
    question_id: str
    status: str
    correct: bool | None = None
    budget_exhausted: bool | None = None  # None: the source does not say (no finish reason)
    scoring_error: bool = False
    harness_error: bool = False  # the harness could not score it: left out of pass@1, never counted wrong
    reasoning: str = ""
    answer: str = ""
    text: str = ""
    # lengths counted when the run was made (the trace filter's record); None: not counted there
    reasoning_tokens: int | None = None
    answer_tokens: int | None = None
    token_unit: str | None = None  # "tokens" (the model's tokenizer) or "words"


@dataclass
class TaskData:
    """The samples of one task, or (no samples logged) the values its lm-eval results JSON holds."""

    name: str
    samples: list[Sample] | None = None
    results: dict[str, dict[str, Any]] = field(default_factory=dict)  # metric -> {"value", "stderr"}
    n: int | None = None
    thinking_disabled: bool = False


@dataclass
class RunData:
    """One evaluated model: its tasks, its groups (name -> leaf tasks) and where it came from."""

    label: str
    source: str
    kind: str  # "lm-eval" or "jsonl"
    tasks: dict[str, TaskData] = field(default_factory=dict)
    groups: dict[str, list[str]] = field(default_factory=dict)
    lm_eval_groups: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    budget_known: bool = False


# --------------------------------------------------------------------------------------------- entry point


def load_run(path: str | os.PathLike[str], *, fmt: str | None = None, prefilled: bool = False,
             label: str | None = None, progress: bool | None = None) -> RunData:
    """Read ``path`` (an lm-eval output folder / results JSON, or a JSONL of generations)."""
    p = Path(path).expanduser()
    if not p.exists():
        raise ReportError(f"{p}: no such file or folder; pass an lm-eval --output_path folder (run with "
                          "--log_samples) or a JSONL file of generations")
    if fmt is not None:
        try:
            get_format(fmt)
        except UnknownFormatError as err:
            raise ReportError(f"--format {fmt}: {err}") from None
    if p.is_dir() or re.match(r"results_.*\.json$", p.name):
        run = read_lm_eval(p, progress=progress)
        if fmt is not None or prefilled:
            run.notes.append("--format/--prefilled ignored: lm-eval samples carry their own classification")
    else:
        run = read_generations(p, fmt=fmt or "think", prefilled=prefilled, progress=progress)
    if label:
        run.label = label
    return run


# ------------------------------------------------------------------------------------------------ helpers


def _show_progress(path: Path, progress: bool | None) -> bool:
    """Progress bars for long reads: when stderr is a terminal, or the file has > 10k lines."""
    if progress is not None:
        return progress
    if sys.stderr.isatty():
        return True
    try:
        if path.stat().st_size < 1_000_000:  # cannot hold 10k JSON records worth reading slowly
            return False
        lines = 0
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                lines += chunk.count(b"\n")
                if lines > PROGRESS_MIN_LINES:
                    return True
    except OSError:
        return False
    return False


def iter_jsonl(path: Path, progress: bool | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, record) for each non-blank line; a bad line is a ``ReportError`` naming it."""
    show = _show_progress(path, progress)
    try:
        fh = path.open("rb")
    except OSError as err:
        raise ReportError(f"{path}: cannot read ({err.strerror}); check the path and its permissions") from None
    with fh:
        bar = task_id = None
        if show:
            from rich.console import Console
            from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

            bar = Progress(TextColumn("reading {task.description}"), BarColumn(), DownloadColumn(),
                           TimeRemainingColumn(), console=Console(stderr=True), transient=True)
            bar.start()
            task_id = bar.add_task(path.name, total=path.stat().st_size)
        try:
            for lineno, raw in enumerate(fh, 1):
                if bar is not None:
                    bar.advance(task_id, len(raw))
                if not raw.strip():
                    continue
                try:
                    rec = json.loads(raw)
                except (json.JSONDecodeError, UnicodeDecodeError) as err:
                    raise ReportError(f"{path}:{lineno}: not valid JSON ({err}); each line must be one JSON "
                                      "object (JSONL)") from None
                if not isinstance(rec, dict):
                    raise ReportError(f"{path}:{lineno}: a JSON {type(rec).__name__}, not an object; each line must "
                                      "be one JSON object")
                yield lineno, rec
        finally:
            if bar is not None:
                bar.stop()


def _as_correct(value: Any) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.strip().lower() in ("true", "1", "yes")
    raise ValueError(value)


# ------------------------------------------------------------------------------------------------- lm-eval

_RESULTS = re.compile(r"^results_(?P<ts>.+)\.json$")


def _newest_results(path: Path) -> tuple[Path, list[Path]]:
    if path.is_file():
        return path, []
    found = [f for f in path.rglob("results_*.json") if _RESULTS.match(f.name)]
    if not found:
        if any(path.glob("*.jsonl")):
            raise ReportError(f"{path}: a folder without results_*.json; pass the JSONL file itself, or the "
                              "lm-eval --output_path folder of a finished run")
        raise ReportError(f"{path}: no lm-eval results_*.json in this folder or below; pass the --output_path "
                          "folder of a finished lm_eval run (with --log_samples) or a JSONL of generations")
    found.sort(key=lambda f: (_RESULTS.match(f.name).group("ts"), f.stat().st_mtime))
    return found[-1], found[:-1]


def _metric_entry(values: dict[str, Any], metric: str) -> tuple[str, dict[str, Any]] | None:
    """The first ``"metric,<filter>"`` key (the thinkpack filter preferred) -> (filter, value/stderr)."""
    keys = [k for k in values if k.startswith(metric + ",")]
    if not keys:
        return None
    keys.sort(key=lambda k: (k.split(",", 1)[1] != "thinkpack", k))
    flt = keys[0].split(",", 1)[1]
    return flt, {"value": values[keys[0]], "stderr": values.get(f"{metric}_stderr,{flt}")}


def _metric_values(values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out = {}
    for m in (*TRACE_METRICS, *COUNT_METRICS):
        hit = _metric_entry(values, m)
        if hit is not None:
            out[m] = hit[1]
    return out


def _leaves(group: str, subtasks: dict[str, list[str]], seen: set[str] | None = None) -> list[str]:
    seen = set() if seen is None else seen
    out: list[str] = []
    for t in subtasks.get(group, []):
        if t in seen:
            continue
        seen.add(t)
        out.extend(_leaves(t, subtasks, seen) if t in subtasks else [t])
    return out


def _run_label(data: dict[str, Any], path: Path) -> str:
    """The model's name from ``model_args`` (pretrained=/model=; a local path's last part), else the folder name."""
    cfg = data.get("config") or {}
    args = cfg.get("model_args")
    if isinstance(args, str):
        args = dict(kv.split("=", 1) for kv in args.split(",") if "=" in kv)
    if isinstance(args, dict):
        for key in ("pretrained", "model", "path"):
            value = str(args.get(key) or "").strip()
            if value:
                if value.startswith(("/", ".", "~")) or os.sep in value and Path(value).exists():
                    return Path(value.rstrip("/")).name or value
                return value
    return path.name if path.is_dir() else path.parent.name


def read_lm_eval(path: Path, progress: bool | None = None) -> RunData:
    results_file, older = _newest_results(path)
    try:
        data = json.loads(results_file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ReportError(f"{results_file}: not a readable lm-eval results JSON ({err}); re-run lm_eval or pass "
                          "another run's folder") from None
    if not isinstance(data, dict) or not isinstance(data.get("results"), dict):
        raise ReportError(f"{results_file}: no 'results' object; this is not an lm-eval results file")
    run = RunData(label=_run_label(data, path), source=str(results_file), kind="lm-eval")
    if older:
        elsewhere = sorted({str(f.parent) for f in older if f.parent != results_file.parent})
        run.notes.append(f"{len(older)} older results file(s) ignored; reading the newest, {results_file.name}")
        if elsewhere:
            run.notes.append(f"results of other model folders ignored ({', '.join(elsewhere)}); pass one model "
                             "folder per model, e.g. `lm-eval-thinkpack compare OUT/base_model OUT/tuned_model`")

    subtasks: dict[str, list[str]] = {g: list(ts) for g, ts in (data.get("group_subtasks") or {}).items()}
    group_names = set(subtasks) | set(data.get("groups") or {})
    ts = _RESULTS.match(results_file.name).group("ts")
    sample_files = {}
    for f in results_file.parent.glob(f"samples_*_{ts}.jsonl"):
        sample_files[f.name[len("samples_"):-len(f"_{ts}.jsonl")]] = f

    n_samples = data.get("n-samples") or {}
    for task, values in data["results"].items():
        if task in group_names or not isinstance(values, dict) or _metric_entry(values, "valid_trace_rate") is None:
            continue  # a group, or not a thinkpack task
        td = TaskData(name=task, results=_metric_values(values))
        eff = (n_samples.get(task) or {}).get("effective")
        td.n = int(eff) if isinstance(eff, int) else values.get("sample_len")
        if task in sample_files:
            td.samples, td.thinking_disabled, known = _read_lm_eval_samples(sample_files[task], task, progress)
            run.budget_known = run.budget_known or known
            if td.thinking_disabled:
                run.notes.append(f"{task}: thinking was disabled by the chat template (a configuration, not a "
                                 "collapse)")
        run.tasks[task] = td
    if not run.tasks:
        raise ReportError(f"{results_file}: no thinkpack task in this run (no 'valid_trace_rate' metric); "
                          "evaluate thinkpack_* tasks, e.g. lm_eval --tasks thinkpack_math --log_samples")
    missing = [t for t, td in run.tasks.items() if td.samples is None]
    if missing:
        run.notes.append(f"no logged samples for {', '.join(missing)}: showing the results JSON values "
                         "(run lm_eval with --log_samples for intervals, trace lengths, pooled groups, examples)")

    for group in sorted(subtasks):
        leaves = [t for t in _leaves(group, subtasks) if t in run.tasks]
        if leaves:
            run.groups[group] = leaves
    for group, values in (data.get("groups") or {}).items():
        if isinstance(values, dict):
            run.lm_eval_groups[group] = _metric_values(values)
    return run


def _sample_row(line: dict[str, Any]) -> dict[str, Any] | None:
    """The per-doc row thinkpack's process_results logs under every metric key."""
    for key in ("pass@1", *TRACE_METRICS):
        row = line.get(key)
        if isinstance(row, dict) and isinstance(row.get("status"), list):
            return row
    for value in line.values():
        if isinstance(value, dict) and isinstance(value.get("status"), list) and "correct" in value:
            return value
    return None


def _per_request(line: dict[str, Any], key: str) -> list[Any]:
    """The logged entries of a generate_until sample's one request (``repeats`` of them)."""
    items = line.get(key)
    items = items[0] if isinstance(items, list) and items and isinstance(items[0], list) else items
    return items if isinstance(items, list) else []


def _read_lm_eval_samples(path: Path, task: str, progress: bool | None) -> tuple[list[Sample], bool, bool]:
    """(samples, thinking disabled, finish reasons known) of one task's ``samples_*.jsonl``.

    Each logged ``filtered_resps`` entry is a thinkpack record; ``record_fields`` rebuilds its pieces from the
    raw response in ``resps`` (records of older logs carry the text themselves).
    """
    from lm_eval_thinkpack.records import RecordError, record_fields

    samples: list[Sample] = []
    disabled = budget_known = False
    for lineno, line in iter_jsonl(path, progress):
        row = _sample_row(line)
        if row is None:
            raise ReportError(f"{path}:{lineno}: no thinkpack per-sample row (a metric key holding 'status' and "
                              "'correct' lists); was the task a thinkpack_* task of this version?")
        doc = line.get("doc") or {}
        disabled = disabled or bool(doc.get("thinkpack_thinking_disabled"))
        filtered, resps = _per_request(line, "filtered_resps"), _per_request(line, "resps")
        qid = f"{line.get('doc_id', lineno)}:{row.get('id')}"
        n = len(row["status"])
        for j in range(n):
            try:
                rec = record_fields(filtered[j], resps[j] if j < len(resps) else None) if j < len(filtered) else {}
            except RecordError as err:
                raise ReportError(f"{path}:{lineno}: {err}") from None
            err = (row.get("scoring_error") or [None] * n)[j]
            harness = (row.get("harness_error") or [None] * n)[j]
            known = isinstance(rec.get("finish_reason"), str)
            budget_known = budget_known or known
            samples.append(Sample(
                task=task, question_id=qid, status=str(row["status"][j]),
                correct=bool((row.get("correct") or [False] * n)[j]),
                budget_exhausted=bool(rec.get("budget_exhausted")) if known else None,
                scoring_error=err is not None, harness_error=harness is not None,
                reasoning=str(rec.get("reasoning") or ""), answer=str(rec.get("answer") or ""),
                text=str(rec.get("text") or ""), reasoning_tokens=rec.get("reasoning_tokens"),
                answer_tokens=rec.get("answer_tokens"), token_unit=rec.get("token_unit"),
            ))
    return samples, disabled, budget_known


# ---------------------------------------------------------------------------------------------- generations


def _first_choice(rec: dict[str, Any], key: str) -> dict[str, Any] | None:
    items = rec.get(key)
    if isinstance(items, list) and items and isinstance(items[0], dict):
        return items[0]
    return None


def parse_generation(rec: dict[str, Any], *, fmt: str = "think", prefilled: bool = False,
                     where: str = "record", default_task: str = "generations",
                     index: int = 0) -> Sample:
    """One JSONL record (plain, OpenAI chat completion or vLLM output) -> ``Sample``.

    ``prefilled`` forces a prefilled prompt; otherwise a record's ``prefilled`` field, else its ``prompt``
    (``prompt_is_prefilled``), decides.
    """
    body = rec
    if isinstance(rec.get("response"), dict):  # OpenAI Batch API output: {"response": {"body": {...}}}
        inner = rec["response"]
        body = inner.get("body") if isinstance(inner.get("body"), dict) else inner

    prompt = rec.get("prompt") if isinstance(rec.get("prompt"), str) else None
    finish_reason = rec.get("finish_reason")
    reasoning_field: str | None = None
    raw_content: str | None = None
    has_reasoning_field = False
    choice = _first_choice(body, "choices")
    output = _first_choice(body, "outputs")
    if choice is not None:
        finish_reason = choice.get("finish_reason", finish_reason)
        msg = choice.get("message") if isinstance(choice.get("message"), dict) else None
        if msg is not None:
            text = raw_content = msg.get("content")
            for key in ("reasoning_content", "reasoning"):
                if msg.get(key) is not None:
                    has_reasoning_field, reasoning_field = True, str(msg[key])
                    break
        else:
            text = choice.get("text")
        if text is None and not has_reasoning_field:
            raise ReportError(f"{where}: choices[0] has neither message.content nor text; expected an OpenAI chat "
                              "completion (choices[0].message.content)")
        text = "" if text is None else text
    elif output is not None:
        text = output.get("text")
        finish_reason = output.get("finish_reason", finish_reason)
        if text is None:
            raise ReportError(f"{where}: outputs[0] has no 'text'; expected a vLLM RequestOutput (outputs[0].text)")
    else:
        key = next((k for k in RESPONSE_FIELDS if k in rec), None)
        if key is None:
            raise ReportError(f"{where}: no generated text: expected a 'response', 'output' or 'text' field, an "
                              "OpenAI 'choices[0].message.content' or a vLLM 'outputs[0].text'; rename the field "
                              "holding the model's output to 'response'")
        text = rec[key]
    if not isinstance(text, str):
        raise ReportError(f"{where}: the generated text is a {type(text).__name__}, not a string; store the "
                          "model's output text in 'response'")

    raw_correct = rec.get("correct", rec.get("is_correct"))
    try:
        correct = _as_correct(raw_correct)
    except ValueError:
        raise ReportError(f"{where}: 'correct' is {raw_correct!r}; use true/false (or 1/0, or null when "
                          "unscored)") from None
    task = str(rec.get("task") or default_task)
    qid = next((rec[k] for k in ("question_id", "id", "doc_id") if rec.get(k) is not None), None)
    if isinstance(body, dict) and body is not rec and qid is None:
        qid = rec.get("custom_id")
    question_id = str(qid) if qid is not None else f"#{index}"
    exhausted: bool | None = None if finish_reason is None else finish_reason == "length"

    if prefilled:
        pre = True
    elif isinstance(rec.get("prefilled"), bool):
        pre = rec["prefilled"]
    else:
        pre = prompt is not None and prompt_is_prefilled(prompt, fmt)
    if has_reasoning_field:
        # the server's reasoning parser split the trace out: put it back in the model's own delimiters, and let
        # classify decide (a content of null, or blank at an exhausted budget, is a trace that never closed)
        content = None if (raw_content is None or (exhausted and not text.strip())) else text
        text = reassemble(reasoning_field, content, fmt, prefilled=pre)
    trace = classify(text, fmt, prefilled=pre, finish_reason=finish_reason if isinstance(finish_reason, str)
                     else None)
    return Sample(task=task, question_id=question_id, status=trace.status.value, correct=correct,
                  budget_exhausted=exhausted, reasoning=trace.reasoning, answer=trace.answer, text=text)


def read_generations(path: Path, *, fmt: str = "think", prefilled: bool = False,
                     progress: bool | None = None) -> RunData:
    if path.suffix == ".json":
        raise ReportError(f"{path}: a .json file that is not an lm-eval results_*.json; pass the lm-eval "
                          "--output_path folder, or a JSONL of generations (one JSON object a line)")
    run = RunData(label=path.stem, source=str(path), kind="jsonl")
    stem = path.stem
    n_records = 0
    unscored = 0
    for lineno, rec in iter_jsonl(path, progress):
        s = parse_generation(rec, fmt=fmt, prefilled=prefilled, where=f"{path}:{lineno}", default_task=stem,
                             index=lineno)
        n_records += 1
        unscored += s.correct is None
        run.budget_known = run.budget_known or s.budget_exhausted is not None
        run.tasks.setdefault(s.task, TaskData(name=s.task, samples=[])).samples.append(s)
    if n_records == 0:
        raise ReportError(f"{path}: no records (the file is empty); write one JSON object a line")
    if 0 < unscored < n_records:
        run.notes.append(f"{unscored} of {n_records} records have no 'correct' field: counted as wrong in pass@1")
    for td in run.tasks.values():
        td.n = len(td.samples or [])
        if all(s.correct is None for s in td.samples or []):
            for s in td.samples or []:
                s.correct = None
    if len(run.tasks) > 1:
        run.groups[ALL_TASKS] = sorted(run.tasks)
    return run
