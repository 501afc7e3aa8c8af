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
detection), ``scoring_timeout`` (seconds per answer check).
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

from .adapters import DataFieldsError, adapt, get_adapter, required_fields, scorer_for

log = logging.getLogger("lm_eval_thinkpack.harness")

SPLIT = "test"
PROFILE_KEYS = ("trace_format", "prefilled", "thinking_disabled")


class ThinkpackConfigError(ValueError):
    """The run is configured in a way that makes trace classification impossible or wrong."""


# ----------------------------------------------------------------------------------------------- profile


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _as_bool(value: Any, key: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("1", "true", "yes", "on", "0", "false", "no", "off"):
        return _truthy(value)
    raise ThinkpackConfigError(f"--metadata {key}={value!r}: expected true or false")


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
            f"thinkpack cannot classify traces: the model args set think_end_token={tok!r}, so lm-eval's "
            "model class (hf/vllm) cuts every generation at that token and drops the reasoning before "
            "thinkpack's filter runs; every trace would look 'missing'. Fix: remove think_end_token from "
            "--model_args (thinkpack separates the trace from the answer itself)."
        )
    if "enable_thinking" in kwargs and kwargs["enable_thinking"] is not None and _truthy(kwargs["enable_thinking"]):
        raise ThinkpackConfigError(
            "thinkpack cannot classify traces: --model_args enable_thinking=True makes lm-eval 0.4.13's "
            "hf/vllm model require think_end_token and strip the trace inside the model class. Fix: drop "
            "enable_thinking from --model_args; thinking models think by default, and for hf you can set the "
            "template switch with chat_template_args='{\"enable_thinking\": true}' instead."
        )


def _offline() -> bool:
    return any(_truthy(os.environ.get(k, "")) for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


@lru_cache(maxsize=32)
def _detect_cached(model_id: str, revision: str | None, trust_remote_code: bool,
                   chat_args_json: str) -> tuple[str, bool | None, bool, bool, str]:
    """(format, prefilled, thinking_disabled, special_delimiters, source) for one model configuration."""
    chat_args = json.loads(chat_args_json)
    try:
        from transformers import AutoTokenizer

        from lm_eval_thinkpack.detect import detect_format

        tokenizer = AutoTokenizer.from_pretrained(
            model_id, revision=revision, trust_remote_code=trust_remote_code, local_files_only=_offline()
        )
        prof = detect_format(tokenizer, **chat_args)
        return _profile_tuple(prof, "tokenizer")
    except Exception as err:  # noqa: BLE001 - any failure here falls back to the model id
        log.info("thinkpack: could not read the chat template of %r (%s: %s); using the model id",
                 model_id, type(err).__name__, err)
    try:
        from lm_eval_thinkpack.detect import profile_for_model_id

        prof = profile_for_model_id(model_id, **chat_args)
        if prof is not None:
            return _profile_tuple(prof, "model id")
        return ("think", None, False, False, "default")
    except Exception as err:  # noqa: BLE001 - detection must not stop a run; the registry rule still applies
        log.warning("thinkpack: profile_for_model_id(%r) failed (%s: %s); using formats.rule_for_model",
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


def resolve_profile(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The trace profile for this run: explicit --metadata values win over detection from the model args."""
    from lm_eval_thinkpack.formats import get_format

    check_model_args(kwargs)
    explicit = {k: kwargs[k] for k in PROFILE_KEYS if kwargs.get(k) is not None}
    if "trace_format" in explicit:
        explicit["trace_format"] = get_format(str(explicit["trace_format"])).name  # unknown -> clear error
    for key in ("prefilled", "thinking_disabled"):
        if key in explicit:
            explicit[key] = _as_bool(explicit[key], key)

    chat_args = _parse_dict(kwargs.get("chat_template_args"), "chat_template_args")
    if "enable_thinking" in kwargs and kwargs["enable_thinking"] is not None:
        chat_args["enable_thinking"] = _truthy(kwargs["enable_thinking"])
    model_id = next((kwargs[k] for k in ("tokenizer", "pretrained", "model")
                     if isinstance(kwargs.get(k), str) and kwargs[k]), None)

    if "trace_format" in explicit and "prefilled" in explicit:
        detected = (explicit["trace_format"], explicit["prefilled"], False, None, "metadata")
    elif model_id is not None:
        detected = _detect_cached(model_id, kwargs.get("revision"), _truthy(kwargs.get("trust_remote_code", False)),
                                  json.dumps(chat_args, sort_keys=True, default=str))
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
        log.warning("thinkpack: no model id to detect the trace format from; assuming %r. Pass "
                    "--metadata '{\"trace_format\": \"...\", \"prefilled\": ...}' to be explicit.", fmt)
    if special:
        log.warning(
            "thinkpack: the %r trace delimiters (%s ... %s) are special tokens. lm-eval's hf model decodes "
            "with skip_special_tokens=True, which drops them: traces then look 'missing' unless the format "
            "recognises the stripped shape (gpt_oss does). Use a backend that keeps special tokens (lm-eval's "
            "vllm passes skip_special_tokens=False) and check the missing_trace_rate.", fmt, spec.open, spec.close)
    if prefilled is None:
        prefilled = False
        if spec.prefilled is None and "prefilled" not in explicit:
            log.warning("thinkpack: cannot tell whether the %r chat template prefills the trace opener; "
                        "assuming not. Pass --metadata '{\"prefilled\": true}' if the prompt ends inside "
                        "<think>.", fmt)
    return {"thinkpack_format": fmt, "thinkpack_prefilled": bool(prefilled),
            "thinkpack_thinking_disabled": bool(disabled), "thinkpack_profile_source": source}


# ------------------------------------------------------------------------------------------------- data


def _read_records(path: Path) -> list[dict[str, Any]]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json" and text.lstrip().startswith("["):
        rows = json.loads(text)
    else:
        rows = []
        for lineno, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as err:
                    raise DataFieldsError(f"{path}: line {lineno} is not valid JSON ({err})") from None
    bad = [i for i, r in enumerate(rows, 1) if not isinstance(r, dict)]
    if bad:
        raise DataFieldsError(f"{path}: record {bad[0]} is not a JSON object")
    return rows


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
        raise FileNotFoundError(
            f"thinkpack task {task}: --metadata gives data_files/data_dir but no file for this task "
            f"(expected a '{task}' key in data_files or {data_dir}/{task}.jsonl)"
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
        raise RuntimeError(
            f"thinkpack task {task}: could not load the Hub dataset {path}"
            f"{'/' + name if name else ''} (split {split}): {type(err).__name__}: {err}. Offline or gated? "
            f"Pass a local copy with --metadata '{{\"data_files\": \"PATH.jsonl\"}}' (same fields as the Hub "
            "dataset; GPQA is gated: accept its terms and log in first)."
        ) from err
    return [dict(r) for r in ds]


def _check_fields(rows: list[dict[str, Any]], needed: tuple[str, ...], source: str, task: str) -> None:
    missing: dict[str, int] = {}
    for row in rows:
        for f in needed:
            if f not in row:
                missing[f] = missing.get(f, 0) + 1
    if missing:
        detail = ", ".join(f"{f!r} (absent in {n} of {len(rows)} records)" for f, n in missing.items())
        raise DataFieldsError(
            f"{source}: task {task} needs the fields {list(needed)}; missing: {detail}. A local data file "
            "must have the same fields as the task's Hub dataset."
        )


def load_docs(**kwargs: Any):
    """lm-eval ``custom_dataset``: -> ``DatasetDict({"test": Dataset})`` of adapted docs with the profile."""
    import datasets

    task = str(kwargs.get("thinkpack_task") or "thinkpack task")
    adapter = get_adapter(str(kwargs.get("thinkpack_adapter") or ""))
    options = _parse_dict(kwargs.get("thinkpack_options"), "thinkpack_options")
    scorer = scorer_for(adapter, kwargs.get("thinkpack_scorer"))  # unknown name: stop before any data is loaded
    profile = resolve_profile(kwargs)  # refuse a stripping configuration before any data is loaded

    local = _data_file_for(task, kwargs)
    if local is not None:
        if not local.exists():
            raise FileNotFoundError(f"thinkpack task {task}: data file {local} does not exist")
        rows, source = _read_records(local), str(local)
    else:
        hub_path = kwargs.get("thinkpack_path")
        if not hub_path:
            raise ThinkpackConfigError(f"thinkpack task {task}: no thinkpack_path in dataset_kwargs and no data_files")
        rows = _load_hub(str(hub_path), kwargs.get("thinkpack_name"), str(kwargs.get("thinkpack_split") or "test"),
                         task)
        source = f"Hub dataset {hub_path}"
    if not rows:
        raise DataFieldsError(f"{source}: no records for task {task}")
    _check_fields(rows, required_fields(adapter, options), source, task)

    timeout = kwargs.get("scoring_timeout")
    docs = []
    for row in rows:
        doc = adapt(adapter, row, options, scorer)
        if doc is None:
            continue
        doc.update(profile)
        doc["thinkpack_timeout"] = float(timeout) if timeout is not None else None
        docs.append(doc)
    if not docs:
        raise DataFieldsError(f"{source}: no record of task {task} passes the task's filter {options}")
    log.info("thinkpack: %s: %d docs from %s; trace format %s (prefilled=%s, source=%s)", task, len(docs), source,
             profile["thinkpack_format"], profile["thinkpack_prefilled"], profile["thinkpack_profile_source"])
    return datasets.DatasetDict({SPLIT: datasets.Dataset.from_list(docs)})
