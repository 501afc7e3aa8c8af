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
from lm_eval_thinkpack.records import response_text
from lm_eval_thinkpack.stats import ALL_TASKS, METRICS, MetricKind

# metrics with a value and a standard error in lm-eval results (the counts are read separately)
TRACE_METRICS = tuple(m.name for m in METRICS if m.kind is not MetricKind.COUNT)
COUNT_METRICS = tuple(m.name for m in METRICS if m.kind is MetricKind.COUNT)
RESPONSE_FIELDS = ("response", "output", "text")
PROGRESS_MIN_LINES = 10_000
LAYER_FILTER = "trace"  # the trace layer's pipeline in an lm-eval task (harness.anytask.TRACE_KEY)
ANSWER_PREFIX = "answer/"  # its answer-only copies of the task's pipelines (harness.anytask.ANSWER_PREFIX)
# what an lm-eval run's pass@1 was read from: "the answer" (thinkpack tasks, tasks run with the trace layer) or
# "the raw text" (an lm-eval task's own metric, in a run made without the layer)
SCORED_ON = "pass@1 on"
MAX_RECORD_MB = 32.0  # one JSONL line / one results JSON: the data loader's limit (harness.loader.MAX_RECORD_MB)
EXCERPT_CHARS = 400  # of each generation kept for the compare examples when the text itself is not kept


class ReportError(Exception):
    """A problem with an input the user can fix: printed as one line (file, problem, fix), exit code 2."""


@dataclass(slots=True)
class Sample:
    """One generation: its trace class and what the report shows about it.

    ``reasoning``/``answer``/``text`` are kept only when the reader is asked to (``keep_text``, the Python API's
    default); the CLI streams without them, so its memory does not grow with the length of the generations:
    ``trace_words``/``trace_chars`` (of the reasoning) and ``excerpt`` (the text's head) are always filled.
    ``own_credit`` is the verdict of an lm-eval task's own metric on the raw text (None: not such a task);
    ``in_trace_credit`` marks a sample it credited on text it should not have: a truncated trace, or an
    extracted answer found in the reasoning and not in the answer (see ``_in_trace_credit``).
    """

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
    trace_words: int = 0
    trace_chars: int = 0
    excerpt: str = ""
    own_credit: bool | None = None
    in_trace_credit: bool = False
    answer_words: int = 0
    no_answer: bool = False  # the answer text is blank (a valid trace then counts in no_answer_rate)
    # lengths counted when the run was made (the trace filter's record); None: not counted there
    reasoning_tokens: int | None = None
    answer_tokens: int | None = None
    token_unit: str | None = None  # "tokens" (the model's tokenizer) or "words"


def _sample(keep_text: bool, reasoning: str, answer: str, text: str, counting: Any = None, **kw: Any) -> Sample:
    """A ``Sample`` with its length figures and excerpt; the texts themselves only when ``keep_text``.
    ``counting`` (a ``counting.SampleCounter``) counts its reasoning and answer tokens when its record did not."""
    figures = {"trace_words": len(reasoning.split()), "trace_chars": len(reasoning), "excerpt": text[:EXCERPT_CHARS],
               "answer_words": len(answer.split()), "no_answer": not answer.strip()}
    if not keep_text:
        s = Sample(**figures, **kw)
    else:
        s = Sample(reasoning=reasoning, answer=answer, text=text, **figures, **kw)
    if counting is not None:
        counting.add(s, reasoning, answer)
    return s


@dataclass
class TaskData:
    """The samples of one task, or (no samples logged) the values its lm-eval results JSON holds."""

    name: str
    samples: list[Sample] | None = None
    results: dict[str, dict[str, Any]] = field(default_factory=dict)  # metric -> {"value", "stderr"}
    n: int | None = None
    thinking_disabled: bool = False
    metric: str | None = None  # a foreign task: the "metric,filter" its correctness comes from
    own_metric: str | None = None  # the "metric,filter" of the raw text that ``Sample.own_credit`` reads


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
    # settings that change the classes or pass@1 (compare refuses to gate runs that differ): "chat template"
    # (True/False), "format" and "prefilled", SCORED_ON (sorted tuples of the values met); a key is absent when the
    # source does not say
    settings: dict[str, Any] = field(default_factory=dict)
    # samples read without token counts: the unit they were counted in and why (one line); None: there were none
    token_note: str | None = None


# --------------------------------------------------------------------------------------------- entry point


@dataclass(frozen=True)
class ReadOptions:
    """How to read: the profile flags, the metric of foreign tasks, what to keep and the size of one record."""

    fmt: str | None = None  # --format: the trace format (None: the run's own, or detected, or "think")
    prefilled: bool = False  # --prefilled: every prompt ended inside an open trace
    metric: str | None = None  # --metric NAME[,FILTER]: correctness of foreign tasks (default: the task's primary)
    progress: bool | None = None
    keep_text: bool = True  # keep each generation's reasoning, answer and text on its Sample
    max_record_bytes: int = int(MAX_RECORD_MB * 2**20)
    # --tokenizer: counts samples read without token counts (None: the run's own, local files only; "none": words)
    tokenizer: str | None = None


def max_record_bytes(mb: float) -> int:
    """``--max-record-mb`` in bytes; a clear error for a value that is not a positive number."""
    if not (isinstance(mb, (int, float)) and mb > 0 and mb == mb):
        raise ReportError(f"--max-record-mb {mb}: expected a positive number of megabytes")
    return int(mb * 2**20)


def load_run(path: str | os.PathLike[str], *, fmt: str | None = None, prefilled: bool = False,
             label: str | None = None, progress: bool | None = None, metric: str | None = None,
             keep_text: bool = True, max_record_mb: float = MAX_RECORD_MB, tokenizer: str | None = None) -> RunData:
    """Read ``path`` (an lm-eval output folder / results JSON, or a JSONL of generations).

    thinkpack tasks carry their own classification; any other generative task with logged samples is classified
    here with the model's profile (``fmt``/``prefilled``, else resolved from the run's model args as the tasks
    resolve it) and scored by its own logged metric (``metric``: "name" or "name,filter"; default: the task's
    first higher-is-better metric of its first filter). ``keep_text=False`` streams: only lengths and an excerpt
    of each generation stay in memory. A line (or results JSON) above ``max_record_mb`` is refused.

    Samples whose records carry no token counts (runs made without the trace filter's counting) are counted with
    ``tokenizer`` (a name or path; "none": whitespace words); by default with the tokenizer the run's model args
    name, from local files only, else in whitespace words. ``RunData.token_note`` says which, and why.
    """
    p = Path(path).expanduser()
    if not p.exists():
        raise ReportError(f"{p}: no such file or folder; pass an lm-eval --output_path folder (run with "
                          "--log_samples) or a JSONL file of generations")
    if fmt is not None:
        try:
            get_format(fmt)
        except UnknownFormatError as err:
            raise ReportError(f"--format {fmt}: {err}") from None
    from .counting import explicit_tokenizer

    explicit_tokenizer(tokenizer)  # a tokenizer that cannot be loaded is an error before anything is read
    opts = ReadOptions(fmt=fmt, prefilled=prefilled, metric=metric, progress=progress, keep_text=keep_text,
                       max_record_bytes=max_record_bytes(max_record_mb), tokenizer=tokenizer)
    if p.is_dir() or re.match(r"results_.*\.json$", p.name):
        run = read_lm_eval(p, opts)
    else:
        if metric is not None:
            raise ReportError(f"--metric {metric}: a JSONL of generations has one 'correct' field per record, no "
                              "metrics to choose from; drop --metric (it picks a metric of an lm-eval run)")
        run = read_generations(p, fmt=fmt or "think", prefilled=prefilled, progress=progress, opts=opts)
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


def _too_big(where: str, limit: int) -> ReportError:
    return ReportError(f"{where}: one record is larger than the {limit / 2**20:g} MB limit (a pasted file or a "
                       "binary blob?); raise it with --max-record-mb N if the record is genuine")


def iter_jsonl(path: Path, progress: bool | None = None,
               max_bytes: int = int(MAX_RECORD_MB * 2**20)) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, record) for each non-blank line, one line in memory at a time; a bad line, or one longer
    than ``max_bytes``, is a ``ReportError`` naming it."""
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
            lineno = 0
            while raw := fh.readline(max_bytes + 1):
                lineno += 1
                if len(raw) > max_bytes and not raw[max_bytes:].strip():
                    raw = raw[:max_bytes]  # the limit fell on the line's own newline
                elif len(raw) > max_bytes:
                    raise _too_big(f"{path}:{lineno}", max_bytes)
                if bar is not None:
                    bar.advance(task_id, len(raw))
                if not raw.strip():
                    continue
                try:
                    rec = json.loads(raw)
                except (json.JSONDecodeError, UnicodeDecodeError) as err:
                    raise ReportError(f"{path}:{lineno}: not valid JSON ({err}); each line must be one JSON "
                                      "object (JSONL)") from None
                del raw
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


def _model_args(data: dict[str, Any]) -> dict[str, Any]:
    """The run's ``--model_args`` as a dict (lm-eval logs a string or a dict)."""
    args = (data.get("config") or {}).get("model_args")
    if isinstance(args, str):
        args = dict(kv.split("=", 1) for kv in args.split(",") if "=" in kv)
    return dict(args) if isinstance(args, dict) else {}


def _run_label(data: dict[str, Any], path: Path) -> str:
    """The model's name from ``model_args`` (pretrained=/model=; a local path's last part), else the folder name."""
    args = _model_args(data)
    for key in ("pretrained", "model", "path"):
        value = str(args.get(key) or "").strip()
        if value:
            if value.startswith(("/", ".", "~")) or os.sep in value and Path(value).exists():
                return Path(value.rstrip("/")).name or value
            return value
    return path.name if path.is_dir() else path.parent.name


def _read_results(results_file: Path, max_bytes: int) -> dict[str, Any]:
    try:
        size = results_file.stat().st_size
        if size > max_bytes:
            raise _too_big(str(results_file), max_bytes)
        data = json.loads(results_file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ReportError(f"{results_file}: not a readable lm-eval results JSON ({err}); re-run lm_eval or pass "
                          "another run's folder") from None
    if not isinstance(data, dict) or not isinstance(data.get("results"), dict):
        raise ReportError(f"{results_file}: no 'results' object; this is not an lm-eval results file")
    return data


def _add_setting(run: RunData, key: str, value: Any) -> None:
    if value is not None:
        run.settings[key] = tuple(sorted({*run.settings.get(key, ()), value}, key=str))


def read_lm_eval(path: Path, opts: ReadOptions | None = None) -> RunData:
    opts = opts or ReadOptions()
    results_file, older = _newest_results(path)
    data = _read_results(results_file, opts.max_record_bytes)
    run = RunData(label=_run_label(data, path), source=str(results_file), kind="lm-eval")
    if "chat_template" in data:  # lm-eval writes null when --apply_chat_template was not given
        run.settings["chat template"] = (bool(data["chat_template"]),)
    if older:
        elsewhere = sorted({str(f.parent) for f in older if f.parent != results_file.parent})
        run.notes.append(f"{len(older)} older results file(s) ignored; reading the newest, {results_file.name}")
        if elsewhere:
            run.notes.append(f"results of other model folders ignored ({', '.join(elsewhere)}); pass one model "
                             "folder per model, e.g. `lm-eval-thinkpack compare OUT/base_model OUT/tuned_model`")

    subtasks: dict[str, list[str]] = {g: list(ts) for g, ts in (data.get("group_subtasks") or {}).items()}
    # a name with no subtasks is a task (older lm-eval versions list every task there with [])
    group_names = {g for g, ts in subtasks.items() if ts} | set(data.get("groups") or {})
    ts = _RESULTS.match(results_file.name).group("ts")
    sample_files = {}
    for f in results_file.parent.glob(f"samples_*_{ts}.jsonl"):
        sample_files[f.name[len("samples_"):-len(f"_{ts}.jsonl")]] = f

    from .counting import SampleCounter, named_tokenizer

    counting = SampleCounter(opts.tokenizer, named_tokenizer(_model_args(data)))
    n_samples = data.get("n-samples") or {}
    configs = data.get("configs") or {}
    foreign: list[str] = []
    skipped: list[str] = []
    layered_tasks: list[str] = []  # lm-eval tasks run with the trace layer (lm-eval-thinkpack eval)
    for task, values in data["results"].items():
        if task in group_names or not isinstance(values, dict):
            continue
        if _metric_entry(values, "valid_trace_rate") is None:  # not a thinkpack task
            cfg = configs.get(task) if isinstance(configs.get(task), dict) else {}
            if task in sample_files and cfg.get("output_type", "generate_until") == "generate_until":
                foreign.append(task)
            else:
                skipped.append(task)
            continue
        td = TaskData(name=task, results=_metric_values(values))
        _add_setting(run, SCORED_ON, "the answer")  # thinkpack tasks' scorers and the layer's answer pipelines
        eff = (n_samples.get(task) or {}).get("effective")
        td.n = int(eff) if isinstance(eff, int) else values.get("sample_len")
        layered = _metric_entry(values, "valid_trace_rate")[0] == LAYER_FILTER
        if layered:
            cfg = configs.get(task) if isinstance(configs.get(task), dict) else {}
            primary = (cfg.get("metadata") or {}).get("thinkpack_primary") if isinstance(cfg.get("metadata"),
                                                                                        dict) else None
            layered_tasks.append(f"{task} ({primary or 'its primary metric on the answer'})")
            if primary and f",{ANSWER_PREFIX}" in primary:  # its own metric on the raw text: the in-trace credit
                td.own_metric = primary.replace(f",{ANSWER_PREFIX}", ",", 1)
        if task in sample_files:
            td.samples, td.thinking_disabled, known = _read_lm_eval_samples(
                sample_files[task], task, opts, run, counting, layered=layered, own=td.own_metric)
            run.budget_known = run.budget_known or known
            if td.thinking_disabled:
                run.notes.append(f"{task}: thinking was disabled by the chat template (a configuration, not a "
                                 "collapse)")
        run.tasks[task] = td
    if run.tasks and (opts.fmt is not None or opts.prefilled):
        run.notes.append("--format/--prefilled ignored for thinkpack tasks: their samples carry their own "
                         "classification")
    if layered_tasks:
        run.notes.append("lm-eval tasks run with the trace layer, classified at run time and scored by their "
                         f"primary metric on the answer: {', '.join(layered_tasks)}")
    if foreign:
        _read_foreign(run, data, foreign, sample_files, opts, counting)
    run.token_note = counting.note()
    if skipped:
        run.notes.append(f"not classified (loglikelihood tasks, or no logged samples): {', '.join(sorted(skipped))}")
    if not run.tasks:
        raise ReportError(f"{results_file}: no generative task with logged samples and no thinkpack task in this "
                          "run; re-run lm_eval with --log_samples (report reads the logged responses of any "
                          "generate_until task)")
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


def _read_lm_eval_samples(path: Path, task: str, opts: ReadOptions, run: RunData | None = None,
                          counting: Any = None, layered: bool = False,
                          own: str | None = None) -> tuple[list[Sample], bool, bool]:
    """(samples, thinking disabled, finish reasons known) of one task's ``samples_*.jsonl``.

    Each logged ``filtered_resps`` entry is a thinkpack record; ``record_fields`` rebuilds its pieces from the
    raw response in ``resps`` (records of older logs carry the text themselves). ``layered``: an lm-eval task run
    with the trace layer, whose records are its ``trace`` pipeline's lines (the other lines are its own and its
    answer-only pipelines'); a row's ``correct`` is the primary metric on the answer, one value per doc, so a doc
    with several responses (``repeats``) has its correctness left unattributed, as for a foreign run. ``own``: the
    ``"metric,filter"`` of the task's own primary metric on the raw text; its verdict and extracted answer give each
    sample's ``own_credit`` and ``in_trace_credit`` (what the run would have credited without the layer). lm-eval
    logs a task's pipelines one after another in its filter order, the layer's last, so they are read first.
    """
    from lm_eval_thinkpack.records import RecordError, record_fields

    samples: list[Sample] = []
    disabled = budget_known = multi = False
    own_name, _, own_filter = (own or "").partition(",")
    raw: dict[Any, tuple[bool | None, str | None]] = {}  # doc_id -> (own verdict, its extracted answer)
    for lineno, line in iter_jsonl(path, opts.progress, opts.max_record_bytes):
        if layered and line.get("filter") != LAYER_FILTER:
            if own and line.get("filter") == own_filter:
                value, got = line.get(own_name), _per_request(line, "filtered_resps")
                verdict = bool(value) if isinstance(value, (bool, int, float)) and value in (0, 1) else None
                raw[line.get("doc_id")] = (verdict, got[0] if got and isinstance(got[0], str) else None)
            continue
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
            if run is not None:
                _add_setting(run, "format", rec.get("format"))
                _add_setting(run, "prefilled", rec.get("prefilled"))
            correct = (row.get("correct") or [False] * n)[j]
            own_credit, in_trace = None, False
            if layered:
                multi = multi or n > 1
                correct = None if correct is None or n > 1 else correct > 0
                if own and n == 1 and harness is None:
                    own_credit, extracted = raw.get(line.get("doc_id"), (None, None))
                    in_trace = _in_trace_credit(own_credit, str(row["status"][j]), str(rec.get("reasoning") or ""),
                                                str(rec.get("answer") or ""), extracted)
            samples.append(_sample(
                opts.keep_text, str(rec.get("reasoning") or ""), str(rec.get("answer") or ""),
                str(rec.get("text") or ""), counting,
                task=task, question_id=qid, status=str(row["status"][j]),
                correct=correct if layered else bool(correct),
                budget_exhausted=bool(rec.get("budget_exhausted")) if known else None,
                scoring_error=err is not None, harness_error=harness is not None,
                reasoning_tokens=rec.get("reasoning_tokens"), answer_tokens=rec.get("answer_tokens"),
                token_unit=rec.get("token_unit"), own_credit=own_credit, in_trace_credit=in_trace,
            ))
    if counting is not None:
        counting.flush()
    if multi and run is not None:
        run.notes.append(f"{task}: several responses per question and one primary value per question: classes "
                         "counted per response, correctness not attributed (pass@1 and Rpass@1 left out; the "
                         "run's own rpass@1,trace pairs each value with its question's first response)")
    return samples, disabled, budget_known


# ------------------------------------------------------------------------------------ any other lm-eval task


def _metric_keys(values: dict[str, Any], higher: dict[str, Any]) -> list[tuple[str, str]]:
    """(metric, filter) of every score a task's results hold, in lm-eval's order; higher-is-better first."""
    keys = []
    for k in values:
        if "," not in k or k == "alias":
            continue
        m, f = k.split(",", 1)
        if m.endswith("_stderr"):
            continue
        keys.append((m, f))
    return sorted(keys, key=lambda mf: higher.get(mf[0], True) is False)


def _pick_metric(task: str, values: dict[str, Any], higher: dict[str, Any], wanted: str | None) -> tuple[str, str]:
    keys = _metric_keys(values, higher)
    if wanted is None:
        if not keys:
            raise ReportError(f"task {task}: its results hold no metric to take correctness from; re-run it with a "
                              "metric_list, or report it from a JSONL of generations with a 'correct' field")
        return keys[0]
    name, _, flt = wanted.partition(",")
    hits = [(m, f) for m, f in keys if m == name and (not flt or f == flt)]
    if not hits:
        known = ", ".join(f"{m},{f}" for m, f in keys) or "none"
        raise ReportError(f"--metric {wanted}: task {task} has no such metric (it has: {known}); name one of "
                          "these, as METRIC or METRIC,FILTER")
    return hits[0]


def _prompt_of(line: dict[str, Any]) -> str | None:
    """The rendered prompt of a logged generate_until sample (lm-eval logs the request's arguments)."""
    args = line.get("arguments")
    if isinstance(args, dict):  # {"gen_args_0": {"arg_0": prompt, "arg_1": gen_kwargs}}
        first = next(iter(args.values()), None)
        if isinstance(first, dict):
            args = first.get("arg_0")
    elif isinstance(args, list) and args:
        args = args[0]
        if isinstance(args, list) and args:
            args = args[0]
    return args if isinstance(args, str) else None


def _score_of(value: Any, where: str, metric: str) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool) or (isinstance(value, (int, float)) and value in (0, 1)):
        return bool(value)
    raise ReportError(f"{where}: the metric {metric} is {value!r}, not a 0/1 verdict; pick a 0/1 metric of the "
                      "task with --metric NAME[,FILTER]")


def _foreign_profile(data: dict[str, Any], opts: ReadOptions, source: str) -> tuple[str, bool | None, str]:
    """(format, prefilled or None to read from each prompt, where it came from) for a foreign task's responses."""
    if opts.fmt is not None:
        return opts.fmt, True if opts.prefilled else None, "--format"
    import logging

    from lm_eval_thinkpack.harness.loader import ThinkpackConfigError, resolve_profile

    kwargs = _model_args(data)
    metadata = next((c.get("metadata") for c in (data.get("configs") or {}).values()
                     if isinstance(c, dict) and isinstance(c.get("metadata"), dict)), None) or {}
    kwargs.update({k: metadata[k] for k in ("trace_format", "prefilled") if metadata.get(k) is not None})
    logger = logging.getLogger("lm_eval_thinkpack.harness")
    old, logger.disabled = logger.disabled, True  # its advice names --metadata; the report's note names --format
    try:
        prof = resolve_profile(kwargs, local_only=True)  # a past run: its tokenizer from local files, no network
    except (ThinkpackConfigError, ValueError) as err:
        raise ReportError(f"{source}: {err}") from None
    finally:
        logger.disabled = old
    src = prof["thinkpack_profile_source"]
    if src == "default":
        src = "no model id in the run's model args to detect it from"
    return prof["thinkpack_format"], True if opts.prefilled else None, src


def _in_trace_credit(credited: bool | None, status: str, reasoning: str, answer: str,
                     extracted: str | None) -> bool:
    """Whether a task's own metric credited a response on text it should not have: a truncated trace (it has no
    answer), or the answer its filters extracted found in the reasoning and not in the answer."""
    if not credited:
        return False
    if status == "truncated":
        return True
    found = (extracted or "").strip()
    return found != "" and found in reasoning and found not in answer


def _read_foreign(run: RunData, data: dict[str, Any], tasks: list[str], files: dict[str, Path],
                  opts: ReadOptions, counting: Any = None) -> None:
    """Classify the logged responses of generative tasks that ran without thinkpack; score them by their metric."""
    fmt, forced_prefilled, source = _foreign_profile(data, opts, run.source)
    higher_all = data.get("higher_is_better") or {}
    for task in tasks:
        values = data["results"][task]
        metric, flt = _pick_metric(task, values, higher_all.get(task) or {}, opts.metric)
        td = TaskData(name=task, samples=[], metric=f"{metric},{flt}", own_metric=f"{metric},{flt}")
        multi = False
        for lineno, line in iter_jsonl(files[task], opts.progress, opts.max_record_bytes):
            if line.get("filter", flt) != flt:
                continue  # lm-eval logs each doc once per filter
            where = f"{files[task]}:{lineno}"
            verdict = _score_of(line.get(metric), where, metric)
            resps, filtered = _per_request(line, "resps"), _per_request(line, "filtered_resps")
            multi = multi or len(resps) > 1
            prompt = _prompt_of(line)
            pre = forced_prefilled
            if pre is None:
                pre = prompt is not None and prompt_is_prefilled(prompt, fmt)
            _add_setting(run, "prefilled", pre)
            extracted = filtered[0] if filtered and isinstance(filtered[0], str) else None
            for j, resp in enumerate(resps):
                text, fault = response_text(resp)
                trace = classify(text, fmt, prefilled=pre)
                correct = None if fault is not None else verdict
                td.samples.append(_sample(
                    opts.keep_text, trace.reasoning, trace.answer, text, counting,
                    task=task, question_id=f"{line.get('doc_id', lineno)}:{j}" if len(resps) > 1
                    else str(line.get("doc_id", lineno)),
                    status=trace.status.value, correct=correct, harness_error=fault is not None,
                    own_credit=correct, in_trace_credit=len(resps) == 1 and _in_trace_credit(
                        correct, trace.status.value, trace.reasoning, trace.answer, extracted)))
        if multi:  # a per-doc metric cannot say which of several responses it credited
            for s in td.samples:
                s.correct, s.own_credit, s.in_trace_credit = None, None, False
            run.notes.append(f"{task}: several responses per question and one {metric} per question: classes "
                             "counted per response, correctness not attributed (pass@1 and Rpass@1 left out)")
        if counting is not None:
            counting.flush()
        td.n = len(td.samples)
        run.tasks[task] = td
    _add_setting(run, "format", fmt)
    _add_setting(run, SCORED_ON, "the raw text")
    names = ", ".join(f"{t} ({run.tasks[t].metric})" for t in tasks)
    run.notes.append(f"not thinkpack tasks, classified here as {fmt!r} (profile: {source}; prefilled "
                     f"{'forced' if forced_prefilled else 'read from each logged prompt'}; set with --format/"
                     f"--prefilled) and scored by their own logged metric: {names}; pick another with --metric "
                     "NAME[,FILTER]")


# ---------------------------------------------------------------------------------------------- generations


def _first_choice(rec: dict[str, Any], key: str) -> dict[str, Any] | None:
    items = rec.get(key)
    if isinstance(items, list) and items and isinstance(items[0], dict):
        return items[0]
    return None


def parse_generation(rec: dict[str, Any], *, fmt: str = "think", prefilled: bool = False,
                     where: str = "record", default_task: str = "generations",
                     index: int = 0, keep_text: bool = True, counting: Any = None) -> Sample:
    """One JSONL record (plain, OpenAI chat completion or vLLM output) -> ``Sample``.

    ``prefilled`` forces a prefilled prompt; otherwise a record's ``prefilled`` field, else its ``prompt``
    (``prompt_is_prefilled``), decides. ``counting`` (a ``counting.SampleCounter``) counts its lengths in tokens.
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
    return _sample(keep_text, trace.reasoning, trace.answer, text, counting, task=task, question_id=question_id,
                   status=trace.status.value, correct=correct, budget_exhausted=exhausted)


def read_generations(path: Path, *, fmt: str = "think", prefilled: bool = False,
                     progress: bool | None = None, opts: ReadOptions | None = None) -> RunData:
    if path.suffix == ".json":
        raise ReportError(f"{path}: a .json file that is not an lm-eval results_*.json; pass the lm-eval "
                          "--output_path folder, or a JSONL of generations (one JSON object a line)")
    run = RunData(label=path.stem, source=str(path), kind="jsonl")
    stem = path.stem
    n_records = 0
    unscored = 0
    opts = opts or ReadOptions()
    from .counting import SampleCounter

    counting = SampleCounter(opts.tokenizer, None, "a JSONL of generations")
    run.settings["format"] = (fmt,)
    for lineno, rec in iter_jsonl(path, progress, opts.max_record_bytes):
        s = parse_generation(rec, fmt=fmt, prefilled=prefilled, where=f"{path}:{lineno}", default_task=stem,
                             index=lineno, keep_text=opts.keep_text, counting=counting)
        n_records += 1
        unscored += s.correct is None
        run.budget_known = run.budget_known or s.budget_exhausted is not None
        run.tasks.setdefault(s.task, TaskData(name=s.task, samples=[])).samples.append(s)
    if n_records == 0:
        raise ReportError(f"{path}: no records (the file is empty); write one JSON object a line")
    run.token_note = counting.note()
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
