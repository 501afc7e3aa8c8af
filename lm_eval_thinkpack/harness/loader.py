"""``custom_dataset`` hook for the thinkpack tasks: load the data, attach the model's trace profile.

lm-eval calls ``load_docs(**metadata, **dataset_kwargs)``; ``metadata`` is ``--model_args`` merged with
``--metadata`` (see ``shared/reference/semantics.md``), ``dataset_kwargs`` comes from the task YAML:

    thinkpack_task:    the task name (used in messages and to pick a file from a ``data_files`` dict)
    thinkpack_adapter: the adapter in ``harness.adapters`` that reads this dataset
    thinkpack_scorer:  the registered scorer (``scoring.registry``) that checks the answers (default: the adapter's)
    thinkpack_path / thinkpack_name / thinkpack_split: the Hub dataset
    thinkpack_options: adapter options (field names, filters such as domain/level)
    thinkpack_bundled: a data file shipped in the package (path relative to ``lm_eval_thinkpack/``), used
                       instead of the Hub when no ``data_files``/``data_dir`` is given (the demo tasks)

User keys (``--metadata``): ``data_files`` (a JSONL path, or {task: path}), ``data_dir`` (holding
``<task>.jsonl``), ``trace_format``, ``prefilled``, ``thinking_disabled`` (explicit profile; wins over
detection), ``scoring_timeout`` (seconds per answer check), ``count_tokens`` (default true: reasoning and
answer lengths in the model's tokens; false: in whitespace words, which costs nothing).
"""

from __future__ import annotations

import ast
import json
import logging
import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from . import preflight
from .adapters import DataFieldsError, adapt, get_adapter, required_fields, scorer_for
from .preflight import ThinkpackConfigError

log = logging.getLogger("lm_eval_thinkpack.harness")

SPLIT = "test"
PROFILE_KEYS = ("trace_format", "prefilled", "thinking_disabled")

__all__ = ["DataFileError", "ThinkpackConfigError", "load_docs", "resolve_profile"]

preflight.install_error_hook()  # an lm_eval run stopped by a thinkpack setting or input error prints its one line
preflight.collapse_lm_eval_repeats()  # lm-eval's "Custom kwargs can be passed..." once per run, not once per task


# ----------------------------------------------------------------------------------------------- profile


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _as_bool(value: Any, key: str) -> bool:
    """A --metadata flag: true or false (also as text), else one line naming the key (``preflight.check_metadata``)."""
    return bool(preflight.check_metadata({key: value}).get(key, value))


def _parse_dict(value: Any, key: str) -> dict[str, Any]:
    if value is None or value == "":
        return {}
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, str):
        for parse in (json.loads, ast.literal_eval):
            try:
                out = parse(value)
            except (ValueError, SyntaxError):
                continue
            if isinstance(out, dict):
                return out
    raise ThinkpackConfigError(f"model arg {key}={value!r} is not a dict (write it as JSON)")


def check_model_args(kwargs: Mapping[str, Any]) -> None:
    """Refuse configurations in which the model class strips the trace before any filter sees it."""
    tok = kwargs.get("think_end_token")
    if tok not in (None, "", False):
        raise ThinkpackConfigError(
            f"lm-eval-thinkpack cannot classify traces: the model args set think_end_token={tok!r}, so lm-eval's "
            "model class (hf/vllm) cuts every generation at that token and drops the reasoning before "
            "the trace filter runs; every trace would look 'missing'. Fix: remove think_end_token from "
            "--model_args (lm-eval-thinkpack separates the trace from the answer itself)."
        )
    if "enable_thinking" in kwargs and kwargs["enable_thinking"] is not None and _truthy(kwargs["enable_thinking"]):
        raise ThinkpackConfigError(
            "lm-eval-thinkpack cannot classify traces: --model_args enable_thinking=True makes lm-eval 0.4.13's "
            "hf/vllm model require think_end_token and strip the trace inside the model class. Fix: drop "
            "enable_thinking from --model_args; thinking models think by default, and for hf you can set the "
            "template switch with chat_template_args='{\"enable_thinking\": true}' instead."
        )


def _offline() -> bool:
    return any(_truthy(os.environ.get(k, "")) for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def _warn_round_trip(tokenizer: Any, fmt: str) -> None:
    """Say so (in the log, once per model configuration) when the tokenizer changes the family's delimiters or
    plain text on encode then decode (transformers#45488): the decoded generations would be classified wrong."""
    import warnings

    from lm_eval_thinkpack.chat import check_round_trip
    from lm_eval_thinkpack.formats import get_format

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            check_round_trip(tokenizer, get_format(fmt))
        except Exception as err:  # noqa: BLE001 - a check that fails must never change the detected profile
            log.debug("lm-eval-thinkpack: round-trip check skipped (%s: %s)", type(err).__name__, err)
    for w in caught:
        log.warning("lm-eval-thinkpack: %s", w.message)


@lru_cache(maxsize=32)
def _detect_cached(model_id: str, revision: str | None, trust_remote_code: bool, chat_args_json: str,
                   offline: bool = False) -> tuple[str, bool | None, bool, bool, str]:
    """(format, prefilled, thinking_disabled, special_delimiters, source) for one model configuration
    (``offline``: the tokenizer from local files only)."""
    chat_args = json.loads(chat_args_json)
    try:
        from lm_eval_thinkpack.detect import detect_format
        from lm_eval_thinkpack.tokens import load_tokenizer

        # the same cached tokenizer counts the reasoning and answer tokens later (tokens.counter_from_ref)
        tokenizer = load_tokenizer(model_id, revision, trust_remote_code, offline)
        prof = detect_format(tokenizer, **chat_args)
        _warn_round_trip(tokenizer, prof.format)
        if getattr(prof, "ambiguous", False):  # once per model configuration (this function is cached)
            log.warning("lm-eval-thinkpack: the chat template of %r fits %s equally; classifying with %r. "
                        "Settle it with %s",
                        model_id, ", ".join(prof.candidates), prof.format,
                        " or ".join(f"--metadata '{{\"trace_format\": \"{n}\"}}'" for n in prof.candidates))
        return _profile_tuple(prof, "tokenizer")
    except Exception as err:  # noqa: BLE001 - any failure here falls back to the model id
        log.info("lm-eval-thinkpack: could not read the chat template of %r (%s: %s); using the model id",
                 model_id, type(err).__name__, err)
    try:
        from lm_eval_thinkpack.detect import profile_for_model_id

        prof = profile_for_model_id(model_id, **chat_args)
        if prof is not None:
            return _profile_tuple(prof, "model id")
        return ("think", None, False, False, "default")
    except Exception as err:  # noqa: BLE001 - detection must not stop a run; the registry rule still applies
        log.warning("lm-eval-thinkpack: profile_for_model_id(%r) failed (%s: %s); using formats.rule_for_model",
                    model_id, type(err).__name__, err)
    from lm_eval_thinkpack.formats import get_format, rule_for_model

    rule = rule_for_model(model_id)
    if rule is not None:
        off = chat_args.get("enable_thinking") is False
        return (rule.format, None if off else rule.prefilled, off, get_format(rule.format).special_delimiters,
                "model id")
    return ("think", None, False, False, "default")


def _profile_tuple(prof: Any, source: str) -> tuple[str, bool | None, bool, bool, str]:
    from lm_eval_thinkpack.formats import get_format

    fmt = get_format(prof.format)
    special = getattr(prof, "special_delimiters", None)
    return (fmt.name, getattr(prof, "prefilled", None), bool(getattr(prof, "thinking_disabled", False)),
            fmt.special_delimiters if special is None else bool(special), getattr(prof, "source", None) or source)


def resolve_profile(kwargs: Mapping[str, Any], *, local_only: bool = False) -> dict[str, Any]:
    """The trace profile for this run: explicit --metadata values win over detection from the model args.
    ``local_only``: the model's tokenizer is read from local files only, whatever HF_HUB_OFFLINE says (a report
    on a past run: no network, no retries)."""
    from lm_eval_thinkpack.formats import get_format, spec_json

    check_model_args(kwargs)
    flags = preflight.check_metadata(kwargs)  # a null format, a non-boolean flag: one line naming the key
    explicit = {k: kwargs[k] for k in PROFILE_KEYS if kwargs.get(k) is not None}
    explicit.update(flags)
    user_spec = ""
    if "trace_format" in explicit:
        requested = explicit["trace_format"]
        if isinstance(requested, Mapping) or (isinstance(requested, str) and requested.lstrip().startswith("{")):
            try:
                user_spec = spec_json(requested)  # a user-defined format: bad keys -> FormatSpecError naming them
            except ValueError as err:
                raise type(err)(f"--metadata trace_format: {err}") from None
            if "prefilled" not in explicit and get_format(user_spec).prefilled is not None:
                explicit["prefilled"] = get_format(user_spec).prefilled
        try:
            explicit["trace_format"] = get_format(user_spec or str(requested)).name  # unknown -> clear error
        except ValueError as err:  # UnknownFormatError, FormatSpecError: the same type, the key named first
            raise type(err)(f"--metadata trace_format={requested!r}: {err}") from None

    chat_args = _parse_dict(kwargs.get("chat_template_args"), "chat_template_args")
    if "enable_thinking" in kwargs and kwargs["enable_thinking"] is not None:
        chat_args["enable_thinking"] = _truthy(kwargs["enable_thinking"])
    model_id = next((kwargs[k] for k in ("tokenizer", "pretrained", "model")
                     if isinstance(kwargs.get(k), str) and kwargs[k]), None)

    if "trace_format" in explicit and "prefilled" in explicit:
        detected = (explicit["trace_format"], explicit["prefilled"], False, None, "metadata")
    elif model_id is not None:
        detected = _detect_cached(model_id, kwargs.get("revision"), _truthy(kwargs.get("trust_remote_code", False)),
                                  json.dumps(chat_args, sort_keys=True, default=str), local_only or _offline())
    else:
        detected = ("think", None, False, None, "default")
    fmt, prefilled, disabled, special, source = detected
    if "trace_format" in explicit and explicit["trace_format"] != fmt:
        special = None  # detection spoke about another format
    fmt = explicit.get("trace_format", fmt)
    prefilled = explicit.get("prefilled", prefilled)
    disabled = explicit.get("thinking_disabled", disabled or chat_args.get("enable_thinking") is False)
    spec = get_format(fmt)
    special = spec.special_delimiters if special is None else special
    if source == "default" and "trace_format" not in explicit:
        preflight.warn_once(log, f"no-model-id:{fmt}", "lm-eval-thinkpack: no model id to detect the trace format "
                            "from; assuming %r. Pass --metadata '{\"trace_format\": \"...\", \"prefilled\": ...}' "
                            "to be explicit.", fmt)
    if special:
        preflight.warn_once(
            log, f"special:{fmt}",
            "lm-eval-thinkpack: the %r trace delimiters (%s ... %s) are special tokens. lm-eval's hf model decodes "
            "with skip_special_tokens=True, which drops them: traces then look 'missing' unless the format "
            "recognises the stripped shape (gpt_oss does). Use a backend that keeps special tokens (lm-eval's "
            "vllm passes skip_special_tokens=False) and check the missing_trace_rate.", fmt, spec.open, spec.close)
    if prefilled is None:
        prefilled = False
        if spec.prefilled is None and "prefilled" not in explicit:
            preflight.warn_once(log, f"prefill-unknown:{fmt}", "lm-eval-thinkpack: cannot tell whether the %r chat "
                                "template prefills the trace opener; assuming not. Pass --metadata "
                                "'{\"prefilled\": true}' if the prompt ends inside <think>.", fmt)
    # thinkpack_format_spec carries a user-defined format's definition, so the filter resolves it in any process
    return {"thinkpack_format": fmt, "thinkpack_format_spec": user_spec if fmt == explicit.get("trace_format") else "",
            "thinkpack_prefilled": bool(prefilled), "thinkpack_thinking_disabled": bool(disabled),
            "thinkpack_profile_source": source,
            "thinkpack_tokenizer": _tokenizer_ref(kwargs, model_id, local_only or _offline())}


def _tokenizer_ref(kwargs: Mapping[str, Any], model_id: str | None, offline: bool) -> str:
    """The tokenizer that counts reasoning and answer tokens: the model's, the one detection read (loaded once,
    ``tokens.load_tokenizer``); "" (whitespace words) when it cannot be loaded or ``count_tokens`` is false."""
    from lm_eval_thinkpack.tokens import load_tokenizer, tokenizer_ref

    if not _as_bool(kwargs.get("count_tokens", True), "count_tokens") or model_id is None:
        return ""
    revision, trust = kwargs.get("revision"), _truthy(kwargs.get("trust_remote_code", False))
    try:
        load_tokenizer(model_id, revision, trust, offline)  # cached: detection loaded it already
    except Exception as err:  # noqa: BLE001 - lengths fall back to words; a run never stops for them
        log.warning("lm-eval-thinkpack: cannot load the tokenizer of %r (%s: %s); reasoning and answer lengths are "
                    "counted in whitespace words (tokens_as_words = 1)", model_id, type(err).__name__, err)
        return ""
    return tokenizer_ref(model_id, revision, trust, offline)


# ------------------------------------------------------------------------------------------------- data

MAX_RECORD_MB = 32.0  # one JSONL line (one record): far above any benchmark record, far below a pasted blob


class DataFileError(DataFieldsError):
    """A local data file that cannot be read as records: the message names the file, the line and the fix."""


class DataMissingError(FileNotFoundError):
    """No data file where the settings point (printed as its one line: ``preflight.one_line``)."""

    thinkpack_user_error = True


class HubDataError(RuntimeError):
    """The task's Hub dataset could not be loaded (offline, gated, renamed); the message names the fix."""

    thinkpack_user_error = True


def _local_copy_hint(task: str) -> str:
    return (f"Pass a local copy (same fields as the Hub dataset): --metadata '{{\"data_dir\": \"DIR\"}}' with "
            f"DIR/{task}.jsonl (one file per task, so it serves a group too), or --metadata '{{\"data_files\": "
            f"{{\"{task}\": \"PATH.jsonl\"}}}}'; a plain '{{\"data_files\": \"PATH.jsonl\"}}' only when the run "
            "has this one task")


def _where(source: str, line: int | None) -> str:
    return f"{source}:{line}" if line is not None else source


def _max_record_bytes(kwargs: Mapping[str, Any]) -> int:
    value = kwargs.get("max_record_mb", MAX_RECORD_MB)
    try:
        mb = float(value)
    except (TypeError, ValueError):
        mb = float("nan")
    if not mb > 0:
        raise ThinkpackConfigError(f"--metadata max_record_mb={value!r}: expected a positive number of megabytes")
    return int(mb * 1024 * 1024)


def _too_big(path: Path, line: int | None, limit: int, size: int | None = None) -> DataFileError:
    what = f"is {size / 2**20:.0f} MB, above" if size is not None else "is longer than"
    return DataFileError(
        f"{_where(str(path), line)}: the record {what} the {limit / 2**20:.0f} MB limit for one record (a pasted "
        "file or a binary blob?). Fix: shorten or drop that field, or raise the limit with --metadata "
        "'{\"max_record_mb\": N}'")


def _decode(raw: bytes, path: Path, line: int) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise DataFileError(
            f"{path}:{line}: byte {err.start + 1} of the line ({raw[err.start:err.start + 1]!r}) is not UTF-8. "
            "Fix: save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8 IN > OUT)") from None


def _parse_json(text: str, path: Path, line: int | None) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        at = f"line {line}" if line is not None else f"line {err.lineno}"
        raise DataFileError(
            f"{path}:{line if line is not None else err.lineno}: not valid JSON ({err.msg} at column {err.colno}). "
            f"Fix: each line must be one complete JSON object; repair or delete {at}") from None


def _read_records(path: Path, max_bytes: int = int(MAX_RECORD_MB * 2**20)) -> tuple[list[tuple[int, dict[str, Any]]],
                                                                                     str]:
    """((line number, record) for each record, "line") of a JSONL file; ((position, record), "record") of a JSON
    array.

    Read in binary, one line at a time with a length limit, so a huge field or a bad byte is reported with
    its line instead of as a traceback from the middle of the file."""
    try:
        size = path.stat().st_size
        fh = path.open("rb")
    except OSError as err:
        raise DataFileError(f"{path}: cannot read the data file ({err.strerror}). Fix: check the path given in "
                            "--metadata data_files / data_dir and its permissions") from None
    if size == 0:
        fh.close()
        raise DataFileError(f"{path}: the data file is empty (0 bytes). Fix: point --metadata data_files at the "
                            "task's JSONL file, one JSON object per line")
    rows: list[tuple[int, Any]] = []
    with fh:
        first = fh.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
        fh.seek(0)
        if path.suffix == ".json" and first.startswith(b"["):
            if size > max_bytes * 64:
                raise _too_big(path, None, max_bytes * 64, size)
            data = _parse_json(_decode(fh.read(), path, 1).lstrip("\ufeff"), path, None)
            if not isinstance(data, list):
                raise DataFileError(f"{path}: a JSON {type(data).__name__}, not a list of records. Fix: write a "
                                    "JSON array of objects, or JSONL (one object per line)")
            rows = list(enumerate(data, 1))
            label = "record"
        else:
            label = "line"
            line = 0
            while True:
                raw = fh.readline(max_bytes + 1)
                if not raw:
                    break
                line += 1
                if len(raw) > max_bytes:
                    raise _too_big(path, line, max_bytes)
                text = _decode(raw, path, line)
                if line == 1:
                    text = text.lstrip("\ufeff")  # a byte-order mark some editors write
                if text.strip():
                    rows.append((line, _parse_json(text, path, line)))
    for where, row in rows:
        if not isinstance(row, dict):
            raise DataFileError(f"{path}:{where}: a JSON {type(row).__name__}, not an object ({label} {where}). "
                                "Fix: each record must be one JSON object with the task's fields")
        if label == "record" and len(json.dumps(row, ensure_ascii=False)) > max_bytes:
            raise _too_big(path, where, max_bytes, len(json.dumps(row, ensure_ascii=False)))
    if not rows:
        raise DataFileError(f"{path}: no records (blank lines or an empty list). Fix: point --metadata data_files "
                            "at the task's JSONL file, one JSON object per line")
    return rows, label


def _data_file_for(task: str, kwargs: Mapping[str, Any]) -> Path | None:
    files = kwargs.get("data_files")
    if isinstance(files, str) and files.strip().startswith("{"):
        files = _parse_dict(files, "data_files")
    if isinstance(files, Mapping):
        if task in files:
            return Path(str(files[task])).expanduser()
    elif files:
        return Path(str(files)).expanduser()
    data_dir = kwargs.get("data_dir")
    if data_dir:
        for suffix in (".jsonl", ".json"):
            candidate = Path(str(data_dir)).expanduser() / f"{task}{suffix}"
            if candidate.exists():
                return candidate
    if isinstance(files, Mapping) or data_dir:
        raise DataMissingError(
            f"thinkpack task {task}: --metadata gives data_files/data_dir but no file for this task "
            f"(expected a '{task}' key in data_files or {data_dir}/{task}.jsonl). Fix: add that file or key"
        )
    bundled = kwargs.get("thinkpack_bundled")
    if bundled:  # data shipped inside the package (the demo tasks): a path relative to lm_eval_thinkpack/
        return Path(__file__).resolve().parents[1] / str(bundled)
    return None


def _load_hub(path: str, name: str | None, split: str, task: str) -> list[dict[str, Any]]:
    import datasets

    try:
        ds = datasets.load_dataset(path, name, split=split)
    except Exception as err:
        raise HubDataError(
            f"thinkpack task {task}: could not load the Hub dataset {path}"
            f"{'/' + name if name else ''} (split {split}): {type(err).__name__}: {err}. Offline or gated (GPQA: "
            f"accept its terms and log in first)? Fix: {_local_copy_hint(task)}."
        ) from err
    return [dict(r) for r in ds]


def _check_fields(rows: list[tuple[int, dict[str, Any]]], needed: tuple[str, ...], source: str, task: str,
                  unit: str = "line") -> None:
    """Every record has every field the adapter reads, with a value (None is a missing gold, not an answer)."""
    missing: dict[str, list[int]] = {}
    for where, row in rows:
        for f in needed:
            if row.get(f) is None:
                missing.setdefault(f, []).append(where)
    if missing:
        detail = ", ".join(f"{f!r} in {len(at)} of {len(rows)} records (first at {unit} {at[0]})"
                           for f, at in missing.items())
        first = min(at[0] for at in missing.values())
        raise DataFieldsError(
            f"{source}: task {task} needs the fields {list(needed)}; missing: {detail}. Fix: give every record "
            f"these fields (same names as the task's Hub dataset; see {unit} {first}), or map your names with the "
            "task's thinkpack_options (e.g. answer_field)."
        )


def _adapt_all(rows: list[tuple[int, dict[str, Any]]], adapter: Any, options: Mapping[str, Any], scorer: str,
               source: str, task: str, unit: str) -> list[dict[str, Any]]:
    """The adapted docs; a record the adapter cannot read, or one without a gold answer, names its line."""
    docs = []
    for where, row in rows:
        try:
            doc = adapt(adapter, row, options, scorer)
        except Exception as err:  # noqa: BLE001 - any adapter failure on one record is that record's data error
            raise DataFieldsError(
                f"{source}:{where}: task {task} cannot read this record ({type(err).__name__}: {err}). Fix: correct "
                f"or delete {unit} {where}; records need the fields and value formats of the task's Hub dataset"
            ) from None
        if doc is None:
            continue
        if not str(doc.get("thinkpack_gold", "")).strip():
            raise DataFieldsError(f"{source}:{where}: task {task}: the record's gold answer is empty. Fix: give "
                                  f"{unit} {where} its gold answer, or delete the record")
        docs.append(doc)
    return docs


def load_docs(**kwargs: Any):
    """lm-eval ``custom_dataset``: -> ``DatasetDict({"test": Dataset})`` of adapted docs with the profile.

    Runs when lm-eval builds the task, before any generation: every data problem stops the run here with one
    message naming the file, the line and the fix."""
    import datasets

    task = str(kwargs.get("thinkpack_task") or "thinkpack task")
    adapter = get_adapter(str(kwargs.get("thinkpack_adapter") or ""))
    options = _parse_dict(kwargs.get("thinkpack_options"), "thinkpack_options")
    scorer = scorer_for(adapter, kwargs.get("thinkpack_scorer"))  # unknown name: stop before any data is loaded
    profile = resolve_profile(kwargs)  # refuse a stripping configuration before any data is loaded
    preflight.check_chat_template()  # a model with a template, prompts without it: refused with the fix
    preflight.fit_budget()  # a max_gen_toks above the model's context: clipped with a warning, not an AssertionError

    local = _data_file_for(task, kwargs)
    if local is not None:
        if not local.exists():
            raise DataMissingError(f"thinkpack task {task}: data file {local} does not exist. Fix: check the path in "
                                   "--metadata data_files / data_dir")
        (rows, unit), source = _read_records(local, _max_record_bytes(kwargs)), str(local)
    else:
        hub_path = kwargs.get("thinkpack_path")
        if not hub_path:
            raise ThinkpackConfigError(f"thinkpack task {task}: no thinkpack_path in dataset_kwargs and no data_files")
        hub_rows = _load_hub(str(hub_path), kwargs.get("thinkpack_name"), str(kwargs.get("thinkpack_split") or "test"),
                             task)
        rows, source, unit = list(enumerate(hub_rows, 1)), f"Hub dataset {hub_path}", "record"
    if not rows:
        raise DataFieldsError(f"{source}: no records for task {task}")
    _check_fields(rows, required_fields(adapter, options), source, task, unit)

    timeout = kwargs.get("scoring_timeout")
    docs = _adapt_all(rows, adapter, options, scorer, source, task, unit)
    for doc in docs:
        doc.update(profile)
        doc["thinkpack_timeout"] = float(timeout) if timeout is not None else None
        doc["thinkpack_server"] = bool(kwargs.get("base_url"))  # an API model: generation.warn_stripped_traces
    if not docs:
        raise DataFieldsError(f"{source}: no record of task {task} passes the task's filter {options}")
    log.info("lm-eval-thinkpack: %s: %d docs from %s; trace format %s (prefilled=%s, source=%s)", task, len(docs),
             source, profile["thinkpack_format"], profile["thinkpack_prefilled"],
             profile["thinkpack_profile_source"])
    return datasets.DatasetDict({SPLIT: datasets.Dataset.from_list(docs)})
