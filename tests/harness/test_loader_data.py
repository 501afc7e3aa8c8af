"""Bad local data, fuzzed: every broken file gets one error naming the file, the line and the fix, at load time
(the loader runs when lm-eval builds the task, before any generation)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lm_eval_thinkpack.harness import loader
from lm_eval_thinkpack.harness.adapters import DataFieldsError

GSM8K = {"thinkpack_task": "thinkpack_gsm8k", "thinkpack_adapter": "gsm8k", "trace_format": "think",
         "prefilled": False}
MATH = {"thinkpack_task": "thinkpack_math500", "thinkpack_adapter": "math", "trace_format": "think",
        "prefilled": False}

_question = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)
_record = st.builds(lambda q, n: {"question": q, "answer": f"work\n#### {n}"}, _question,
                    st.integers(min_value=-10**6, max_value=10**6))


def _write(lines: list[bytes]) -> Path:
    fd, name = tempfile.mkstemp(suffix=".jsonl")
    with open(fd, "wb") as fh:
        fh.write(b"\n".join(lines) + b"\n")
    return Path(name)


def _encode(rec: dict) -> bytes:
    return json.dumps(rec, ensure_ascii=False).encode("utf-8")


def _corrupt(kind: str, rec: dict) -> bytes:
    if kind == "truncated_json":
        return _encode(rec)[:-1]
    if kind == "garbage":
        return b"{'question': 'single quotes are not JSON'}"
    if kind == "latin1":
        return json.dumps({**rec, "question": "caf\u00e9"}, ensure_ascii=False).encode("latin-1")
    if kind == "stray_byte":
        return _encode(rec).replace(b'"answer"', b'"answer\xff"', 1)
    if kind == "no_gold":
        return _encode({"question": rec["question"]})
    if kind == "null_gold":
        return _encode({**rec, "answer": None})
    if kind == "unreadable_gold":
        return _encode({**rec, "answer": "no marker and no number"})
    if kind == "not_an_object":
        return b'["question", "answer"]'
    raise AssertionError(kind)


KINDS = ["truncated_json", "garbage", "latin1", "stray_byte", "no_gold", "null_gold", "unreadable_gold",
         "not_an_object"]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records=st.lists(_record, min_size=1, max_size=8), data=st.data(), kind=st.sampled_from(KINDS),
       blanks=st.sets(st.integers(min_value=0, max_value=9), max_size=3))
def test_one_bad_line_is_named_with_its_file_line_and_fix(records, data, kind, blanks):
    bad = data.draw(st.integers(min_value=0, max_value=len(records) - 1))
    lines: list[bytes] = []
    bad_line = None
    for i, rec in enumerate(records):
        if i in blanks:
            lines.append(b"   ")  # blank lines are skipped but still counted
        lines.append(_corrupt(kind, rec) if i == bad else _encode(rec))
        if i == bad:
            bad_line = len(lines)
    path = _write(lines)
    try:
        with pytest.raises(DataFieldsError) as err:
            loader.load_docs(**GSM8K, data_files=str(path))
    finally:
        path.unlink()
    msg = str(err.value)
    assert str(path) in msg and "Fix:" in msg, msg
    assert f"{path}:{bad_line}:" in msg or f"line {bad_line})" in msg, (bad_line, msg)
    assert "\n" not in msg  # one line


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records=st.lists(_record, min_size=1, max_size=8), bom=st.booleans(), crlf=st.booleans())
def test_good_files_load_every_record(records, bom, crlf):
    lines = [_encode(r) + (b"\r" if crlf else b"") for r in records]
    if bom:
        lines[0] = b"\xef\xbb\xbf" + lines[0]
    path = _write(lines)
    try:
        docs = list(loader.load_docs(**GSM8K, data_files=str(path))["test"])
    finally:
        path.unlink()
    assert [d["question"] for d in docs] == [r["question"] for r in records]
    assert [d["thinkpack_gold"] for d in docs] == [r["answer"].rsplit(" ", 1)[1] for r in records]


def test_empty_file_and_blank_file(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    with pytest.raises(DataFieldsError, match=rf"{empty}: the data file is empty \(0 bytes\)\. Fix:"):
        loader.load_docs(**GSM8K, data_files=str(empty))
    blank = tmp_path / "blank.jsonl"
    blank.write_text("\n  \n\n")
    with pytest.raises(DataFieldsError, match=rf"{blank}: no records .*Fix:"):
        loader.load_docs(**GSM8K, data_files=str(blank))


def test_a_100_mb_field_is_refused_by_line_without_reading_it_whole(tmp_path):
    path = tmp_path / "huge.jsonl"
    with path.open("wb") as fh:
        fh.write(_encode({"question": "ok", "answer": "#### 1"}) + b"\n")
        fh.write(b'{"question": "')
        chunk = b"x" * (1 << 20)
        for _ in range(100):
            fh.write(chunk)
        fh.write(b'", "answer": "#### 2"}\n')
    with pytest.raises(DataFieldsError, match=rf"{path}:2: the record is longer than the 32 MB limit .*"
                                              r"Fix: .*max_record_mb"):
        loader.load_docs(**GSM8K, data_files=str(path))
    # the limit is a setting, not a wall
    docs = loader.load_docs(**GSM8K, data_files=str(path), max_record_mb=200)["test"]
    assert len(docs) == 2 and len(docs[1]["question"]) == 100 << 20


def test_empty_gold_names_the_record(tmp_path):
    path = tmp_path / "math.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in ({"problem": "1+1", "answer": "2"},
                                                      {"problem": "2+2", "answer": "  "})) + "\n")
    with pytest.raises(DataFieldsError, match=rf"{path}:2: task thinkpack_math500: the record's gold answer is "
                                              r"empty\. Fix:"):
        loader.load_docs(**MATH, data_files=str(path))


def test_json_array_files_name_the_record(tmp_path):
    path = tmp_path / "data.json"
    path.write_text(json.dumps([{"question": "a", "answer": "#### 1"}, {"question": "b"}]))
    with pytest.raises(DataFieldsError, match=r"missing: 'answer' in 1 of 2 records \(first at record 2\).*Fix:"):
        loader.load_docs(**GSM8K, data_files=str(path))
    path.write_text('[{"question": "a", "answer": "#### 1"},\n {"question": }]')
    with pytest.raises(DataFieldsError, match=rf"{path}:2: not valid JSON .*Fix:"):
        loader.load_docs(**GSM8K, data_files=str(path))


def test_bad_max_record_mb_is_a_config_error(tmp_path):
    path = tmp_path / "ok.jsonl"
    path.write_text(json.dumps({"question": "a", "answer": "#### 1"}) + "\n")
    with pytest.raises(loader.ThinkpackConfigError, match="max_record_mb"):
        loader.load_docs(**GSM8K, data_files=str(path), max_record_mb="lots")
