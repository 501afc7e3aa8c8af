"""generation.py: the finish-reason-carrying string, reassembly of a server's split fields, the lost-trace symptom."""

from __future__ import annotations

import copy
import json
import logging
import pickle

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from lm_eval_thinkpack import FORMATS, classify
from lm_eval_thinkpack import generation as gen
from lm_eval_thinkpack.generation import Generation, reassemble, stripped_trace_warning, warn_stripped_traces


def test_generation_is_a_str_that_keeps_its_finish_reason_through_copies_pickles_and_json() -> None:
    g = Generation("<think>\nabc", finish_reason="length")
    assert isinstance(g, str) and g == "<think>\nabc" and g.finish_reason == "length"
    for back in (pickle.loads(pickle.dumps(g)), copy.deepcopy(g), copy.copy(g)):
        assert type(back) is Generation and back == g and back.finish_reason == "length"
    assert json.loads(json.dumps({"r": g})) == {"r": "<think>\nabc"}
    assert Generation("x").finish_reason is None and gen.finish_reason_of("x") is None
    assert classify(g, "qwen3", finish_reason=gen.finish_reason_of(g)).budget_exhausted
    with pytest.raises(TypeError, match="str"):
        Generation(None)  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt", ["qwen3", "deepseek_r1", "gpt_oss", "magistral", "kimi", "cohere", "hunyuan"])
def test_reassemble_shapes(fmt: str) -> None:
    spec = FORMATS[fmt]
    d = gen._writing(spec)
    assert reassemble("r", "c", fmt, prefilled=False) == d.open[0] + "r" + d.close[0] + "c"
    assert reassemble("r", "c", fmt, prefilled=True) == "r" + d.close[0] + "c"  # the prompt opened the trace
    assert reassemble("r", None, fmt, prefilled=False) == d.open[0] + "r"      # never closed: truncated
    assert reassemble(None, "c", fmt, prefilled=False) == "c"                  # no trace: content as is
    assert reassemble(None, None, fmt, prefilled=False) == ""
    assert classify(reassemble("r", None, fmt, prefilled=True), fmt, prefilled=True).status == "truncated"


def test_reassemble_gives_back_vllm_qwen3_pieces_exactly() -> None:
    # vLLM's qwen3 parser returns the raw pieces around the tags: the model's own text comes back byte for byte
    text = "<think>\nOkay.\n3+4=7\n</think>\n\n7"
    assert reassemble("\nOkay.\n3+4=7\n", "\n\n7", "qwen3", prefilled=False) == text


def test_reassemble_rejects_non_strings() -> None:
    with pytest.raises(TypeError, match="reasoning"):
        reassemble(3, "c", "qwen3", prefilled=False)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="content"):
        reassemble("r", ["c"], "qwen3", prefilled=False)  # type: ignore[arg-type]


_TEXT = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789 .,:\n\t", max_size=40)


def _markers(name: str) -> tuple[str, ...]:
    spec = FORMATS[name]
    out = [ic.marker for ic in spec.implicit_close]
    for d in spec.delimiters:
        out += [*d.open, *d.close, d.answer_open or "", d.answer_close or ""]
        out += [w or "" for pair in d.answer_alt for w in pair]
    return tuple(m for m in out if m)


@settings(max_examples=400, deadline=None)
@given(fmt=st.sampled_from(sorted(FORMATS)), r=st.one_of(st.none(), _TEXT), c=st.one_of(st.none(), _TEXT),
       prefilled=st.booleans())
def test_classify_of_reassemble_gives_back_reasoning_and_content_for_every_family(fmt, r, c, prefilled) -> None:
    marks = _markers(fmt)
    assume(not any(m in (r or "") or m in (c or "") for m in marks))
    assume(not (r is None and prefilled))  # no trace from a prefilled prompt: the server's call, not ours
    t = classify(reassemble(r, c, fmt, prefilled=prefilled), fmt, prefilled=prefilled)
    if r is None:
        assert (t.status, t.reasoning, t.answer) == ("missing", "", (c or "").strip())
    elif c is None:
        assert (t.status, t.reasoning, t.answer) == ("truncated", r.strip(), "")
    else:
        assert t.status == ("valid" if r.strip() else "empty")
        assert (t.reasoning, t.answer, t.preamble) == (r.strip(), c.strip(), "")


def test_symptom_when_a_reasoning_parser_took_every_trace() -> None:
    msg = stripped_trace_warning(["7", "", "  12"], "qwen3")
    assert msg is not None and "3 responses" in msg
    assert "lm-eval-thinkpack eval --model thinkpack-chat-completions" in msg
    assert "(1 blank)" in msg


@pytest.mark.parametrize("responses, kwargs", [
    (["7", "<think>\nx\n</think>\n\n8"], {}),                        # one whole trace: the text reaches us whole
    (["7", "x\n</think>\n\n8"], {}),                                  # a prefilled template's closer counts too
    ([Generation("7", "stop"), Generation("", "length")], {}),        # a thinkpack backend reassembled these
    (["7", ""], {"thinking_disabled": True}),                         # thinking off: no trace is expected
    (["7", ""], {"via_server": False}),                               # hf: a collapsed model, not a parser
    ([], {}),
])
def test_no_symptom(responses, kwargs) -> None:
    assert stripped_trace_warning(responses, "qwen3", **kwargs) is None


def test_filter_hook_warns_once_per_format(caplog, monkeypatch) -> None:
    monkeypatch.setattr(gen, "_WARNED", set())
    docs = [{"thinkpack_format": "qwen3", "thinkpack_server": True}] * 2
    with caplog.at_level(logging.WARNING, logger="lm_eval_thinkpack.generation"):
        assert warn_stripped_traces([["7"], [""]], docs) is not None
        assert warn_stripped_traces([["9"], ["1"]], docs) is not None  # a second task of the same run
    assert sum("thinkpack-chat-completions" in r.getMessage() for r in caplog.records) == 1
    assert warn_stripped_traces([["7"]], [{"thinkpack_format": "qwen3"}]) is None  # no server: no warning
    assert warn_stripped_traces([], []) is None
