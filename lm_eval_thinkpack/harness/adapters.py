"""Dataset adapters: one Hub (or local JSONL) record -> the fields every thinkpack task reads.

An adapter names the source fields it needs (``required``) and returns the record with ``thinkpack_*``
fields added; the original fields are kept, so a prompt template may use either. Shared fields:

* ``thinkpack_id``        stable question id (dataset id, else a hash of the question text)
* ``thinkpack_question``  the text the prompt shows
* ``thinkpack_gold``      the gold answer as text (a letter for multiple choice, the entry point for code)
* ``thinkpack_scorer``    the name of the registered scorer that checks it (``lm_eval_thinkpack.scoring.registry``:
                         ``number``, ``math``, ``choice``, ``code``, ``exact``, or any registered one): the task
                         YAML's ``thinkpack_scorer``, else the adapter's default
* choice tasks: ``thinkpack_choices`` (list of option texts) and ``thinkpack_letters`` (e.g. "ABCD")
* code tasks: ``thinkpack_test`` (the program that checks a solution), ``thinkpack_entry_point`` and
  ``thinkpack_code_prompt`` (the HumanEval function header a bare body completes; empty for MBPP+)

Adapters never call a scorer and never look at a model: they only reshape data.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

LETTERS = "ABCDEFGHIJ"


class DataFieldsError(ValueError):
    """A data file (or Hub dataset) lacks fields the task needs."""


@dataclass(frozen=True)
class Adapter:
    name: str
    required: tuple[str, ...]
    convert: Callable[[dict[str, Any], Mapping[str, Any]], dict[str, Any] | None]
    scorer: str
    description: str = ""
    options: dict[str, Any] = field(default_factory=dict)


def stable_id(*parts: object) -> str:
    """A short deterministic id from text (used when a dataset has no id field)."""
    h = hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).hexdigest()
    return h[:16]


def _id(doc: Mapping[str, Any], key: str | None, *fallback: object) -> str:
    if key and doc.get(key) not in (None, ""):
        return str(doc[key])
    return stable_id(*fallback)


def _gsm8k(doc: dict[str, Any], opts: Mapping[str, Any]) -> dict[str, Any]:
    from lm_eval_thinkpack.scoring.numbers import parse_gold_gsm8k

    q = str(doc[opts["question_field"]])
    gold = parse_gold_gsm8k(str(doc[opts["answer_field"]]))
    return {"thinkpack_id": _id(doc, opts.get("id_field"), q), "thinkpack_question": q,
            "thinkpack_gold": str(gold)}


def _math(doc: dict[str, Any], opts: Mapping[str, Any]) -> dict[str, Any]:
    qf, af = opts["question_field"], opts["answer_field"]
    q = str(doc[qf])
    return {"thinkpack_id": _id(doc, opts.get("id_field"), q), "thinkpack_question": q,
            "thinkpack_gold": str(doc[af]).strip()}


def _clean_option(text: object) -> str:
    s = "" if text is None else str(text)
    return re.sub(r"\s+", " ", s).strip()


def _gpqa(doc: dict[str, Any], opts: Mapping[str, Any]) -> dict[str, Any]:
    q = str(doc["Question"]).strip()
    correct = _clean_option(doc["Correct Answer"])
    options = [correct] + [_clean_option(doc[f"Incorrect Answer {i}"]) for i in (1, 2, 3)]
    # Deterministic shuffle seeded by the question (its record id when present): every run, every
    # machine, every process sees the same order, so results are reproducible and comparable.
    seed_text = f"{opts.get('shuffle_seed', 0)}|{doc.get('Record ID') or q}"
    rng = random.Random(int(hashlib.sha256(seed_text.encode("utf-8")).hexdigest()[:16], 16))
    order = list(range(4))
    rng.shuffle(order)
    shuffled = [options[i] for i in order]
    gold = LETTERS[order.index(0)]
    return {"thinkpack_id": _id(doc, "Record ID", q), "thinkpack_question": q,
            "thinkpack_choices": shuffled, "thinkpack_letters": LETTERS[:4],
            "thinkpack_gold": gold}


def _sciknoweval(doc: dict[str, Any], opts: Mapping[str, Any]) -> dict[str, Any] | None:
    details = doc.get("details") or {}
    domain, level = opts.get("domain"), opts.get("level")
    if domain and str(doc.get("domain", "")).lower() != str(domain).lower():
        return None
    if level and str(details.get("level", "")).upper() != str(level).upper():
        return None
    if not str(doc.get("type", "")).startswith("mcq"):
        return None
    choices = doc.get("choices") or {}
    texts = [_clean_option(t) for t in (choices.get("text") or [])]
    labels = [str(x).strip().upper() for x in (choices.get("label") or LETTERS[: len(texts)])]
    if not texts or len(labels) != len(texts) or labels != list(LETTERS[: len(texts)]):
        return None
    gold = str(doc["answerKey"]).strip().upper()
    if gold not in labels:
        return None
    q = str(doc["question"]).strip()
    return {"thinkpack_id": _id(doc, opts.get("id_field"), q, *texts), "thinkpack_question": q,
            "thinkpack_choices": texts, "thinkpack_letters": "".join(labels),
            "thinkpack_gold": gold}


def _humaneval(doc: dict[str, Any], opts: Mapping[str, Any]) -> dict[str, Any]:
    return {"thinkpack_id": str(doc["task_id"]), "thinkpack_question": str(doc["prompt"]),
            "thinkpack_test": str(doc["test"]), "thinkpack_entry_point": str(doc["entry_point"]),
            "thinkpack_code_prompt": str(doc["prompt"]), "thinkpack_gold": str(doc["entry_point"])}


_ASSERT_CALL = re.compile(r"assert\s+(?:not\s+)?\(?\s*(?:set\(|math\.isclose\()?\s*([A-Za-z_]\w*)\s*\(")


def _mbpp_plus(doc: dict[str, Any], opts: Mapping[str, Any]) -> dict[str, Any]:
    tests = [str(t) for t in doc["test_list"]]
    m = _ASSERT_CALL.search(tests[0]) if tests else None
    entry = m.group(1) if m else ""
    imports = doc.get("test_imports") or []
    # base tests (test_list) plus the EvalPlus extra tests (test): a solution must pass both
    program = "\n".join([*map(str, imports), *tests, "", str(doc["test"])])
    prompt = str(doc["prompt"]).strip()
    question = f"{prompt}\nYour code should satisfy this test:\n{tests[0]}" if tests else prompt
    return {"thinkpack_id": str(doc["task_id"]), "thinkpack_question": question,
            "thinkpack_test": program, "thinkpack_entry_point": entry,
            "thinkpack_code_prompt": "", "thinkpack_gold": entry}


ADAPTERS: dict[str, Adapter] = {
    a.name: a
    for a in (
        Adapter("gsm8k", ("{question_field}", "{answer_field}"), _gsm8k, "number", "GSM8K: gold after '####'",
                {"question_field": "question", "answer_field": "answer"}),
        Adapter("math", ("{question_field}", "{answer_field}"), _math, "math",
                "problem/answer math (MATH-500, AIME 2025)",
                {"question_field": "problem", "answer_field": "answer"}),
        Adapter("aime_maxwell", ("{question_field}", "{answer_field}"), _math, "math",
                "Maxwell-Jia/AIME_2024 (capitalised fields)",
                {"question_field": "Problem", "answer_field": "Answer", "id_field": "ID"}),
        Adapter("gpqa", ("Question", "Correct Answer", "Incorrect Answer 1", "Incorrect Answer 2",
                         "Incorrect Answer 3"), _gpqa, "choice", "GPQA: four options, shuffled by question id"),
        Adapter("sciknoweval", ("question", "choices", "answerKey", "type", "domain", "details"), _sciknoweval,
                "choice", "SciKnowEval multiple choice, filtered by domain and level"),
        Adapter("humaneval", ("task_id", "prompt", "test", "entry_point"), _humaneval, "code", "HumanEval(+)"),
        Adapter("mbpp_plus", ("task_id", "prompt", "test_list", "test"), _mbpp_plus, "code",
                "MBPP+: base + extra tests"),
        Adapter("exact", ("{question_field}", "{answer_field}"), _math, "exact",
                "short answers by exact match (demo tasks)", {"question_field": "question", "answer_field": "answer"}),
    )
}


def get_adapter(name: str) -> Adapter:
    try:
        return ADAPTERS[name]
    except KeyError:
        raise ValueError(f"unknown thinkpack adapter {name!r}; known: {', '.join(sorted(ADAPTERS))}") from None


def required_fields(adapter: Adapter, opts: Mapping[str, Any]) -> tuple[str, ...]:
    """The source fields this adapter reads; "{option}" entries name a field chosen by an option."""
    merged = {**adapter.options, **opts}
    return tuple(str(merged[r[1:-1]]) if r.startswith("{") else r for r in adapter.required)


def scorer_for(adapter: Adapter, scorer: str | None = None) -> str:
    """The scorer name a task uses (its YAML's ``thinkpack_scorer``, else the adapter's), checked against the
    registry now, so a misspelt name stops the run before generation with the list of known scorers."""
    from lm_eval_thinkpack.scoring import get_scorer

    name = scorer or adapter.scorer
    get_scorer(name)
    return name


def adapt(adapter: Adapter, doc: dict[str, Any], opts: Mapping[str, Any],
          scorer: str | None = None) -> dict[str, Any] | None:
    """The record with thinkpack fields added (``thinkpack_scorer``: ``scorer`` or the adapter's default),
    or None when the adapter filters it out."""
    extra = adapter.convert(doc, {**adapter.options, **opts})
    if extra is None:
        return None
    return {**doc, **extra, "thinkpack_scorer": scorer or adapter.scorer}
