"""The classifier's rules, its documented decisions, and properties that must hold on any text."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from lm_eval_thinkpack import FORMATS, Trace, TraceStatus, UnknownFormatError, classify, classify_many


def test_valid_trace_splits_reasoning_and_answer() -> None:
    t = classify("<think>\nstep one\nstep two\n</think>\n\nAnswer: 7")
    assert t.status is TraceStatus.VALID and t.status == "valid"
    assert t.reasoning == "step one\nstep two" and t.answer == "Answer: 7"
    assert t.is_valid and t.blocks == 1 and t.closed_by == "delimiter"


def test_empty_block_is_empty_not_valid() -> None:
    for body in ("", " ", "\n\n", "\t\r\n "):
        assert classify(f"<think>{body}</think>7").status == "empty"


def test_truncated_has_no_answer_and_records_budget() -> None:
    t = classify("<think>\nlong reasoning that never ends", finish_reason="length")
    assert t.status == "truncated" and t.answer == "" and t.budget_exhausted
    assert not classify("<think>x", finish_reason="stop").budget_exhausted


def test_missing_uses_the_whole_text_as_answer() -> None:
    t = classify("  The answer is 7.  ")
    assert t.status == "missing" and t.answer == "The answer is 7." and t.reasoning == "" and t.blocks == 0


def test_prefilled_without_closer_is_truncated_never_missing() -> None:
    assert classify("I am thinking", prefilled=True).status == "truncated"
    assert classify("", prefilled=True).status == "truncated"
    assert classify("").status == "missing"


def test_several_blocks_first_closer_ends_the_trace() -> None:
    t = classify("<think>a</think>mid<think>b</think>end")
    assert t.status == "valid" and t.reasoning == "a" and t.answer == "mid<think>b</think>end" and t.blocks == 2


def test_text_before_the_opener_is_preamble() -> None:
    t = classify("Sure! <think>plan</think>done")
    assert (t.preamble, t.reasoning, t.answer) == ("Sure!", "plan", "done")
    # prefilled: everything before the closer is inside the trace
    t = classify("plan <think>more</think>done", prefilled=True)
    assert (t.preamble, t.reasoning, t.answer) == ("", "plan <think>more", "done")


def test_repeated_opener_stays_inside_the_reasoning() -> None:
    t = classify("<think>a<think>b</think>c")
    assert t.reasoning == "a<think>b" and t.answer == "c"
    t = classify("<think>a<think>b")
    assert t.status == "truncated" and t.reasoning == "a<think>b"


def test_closer_without_opener_closes_a_trace() -> None:
    assert classify("reasoning</think>7").status == "valid"
    assert classify("</think>7").status == "empty"


def test_tool_call_implicitly_ends_an_open_trace_only_for_families_that_do_so() -> None:
    text = "<think>need a tool\n<tool_call>{}"
    assert classify(text, "qwen3").status == "valid"
    assert classify(text, "qwen3").answer == "<tool_call>{}"
    assert classify(text, "think").status == "truncated"
    # a real closer always wins over the implicit one
    t = classify("<think>mention <tool_call> here</think>7", "qwen3")
    assert t.reasoning == "mention <tool_call> here" and t.closed_by == "delimiter"
    # a tool call with nothing before it closes an empty trace
    assert classify("<tool_call>{}", "qwen3", prefilled=True).status == "empty"


def test_case_variants_are_not_delimiters() -> None:
    assert classify("<THINK>x</THINK>7").status == "missing"
    assert classify("<Think>x</Think>7").status == "missing"


def test_crlf_bodies() -> None:
    assert classify("<think>\r\n\r\n</think>\r\n7").status == "empty"
    t = classify("<think>\r\nstep\r\n</think>\r\n\r\n7")
    assert t.status == "valid" and t.reasoning == "step" and t.answer == "7"


def test_unknown_format_and_bad_text_give_clear_errors() -> None:
    with pytest.raises(UnknownFormatError, match="unknown trace format 'nope'.*Known formats: .*qwen3"):
        classify("x", "nope")
    with pytest.raises(TypeError, match="generated text as str"):
        classify(None)  # type: ignore[arg-type]


def test_aliases_and_case_insensitive_names() -> None:
    assert classify("a</think>b", "QwQ", prefilled=True).format == "qwq"
    assert classify("[THINK]a[/THINK]b", "Mistral").status == "valid"


def test_classify_many_matches_classify() -> None:
    texts = ["<think>a</think>b", "x", "<think>y"]
    got = classify_many(texts, "think", prefilled=[False, True, False], finish_reasons=[None, None, "length"])
    assert [t.status for t in got] == ["valid", "truncated", "truncated"]
    assert got[2].budget_exhausted
    with pytest.raises(ValueError, match="one entry per text"):
        classify_many(texts, prefilled=[True])


# ---- properties on arbitrary text -------------------------------------------------------------------------

TAGGY = st.lists(
    st.one_of(st.text(max_size=20), st.sampled_from(["<think>", "</think>", "\n", " ", "[THINK]", "[/THINK]",
                                                     "<tool_call>", "analysis", "assistantfinal", "</thought>"])),
    max_size=12,
).map("".join)


def _in_order(text: str, trace: Trace) -> bool:
    pos = 0
    for piece in (trace.preamble, trace.reasoning, trace.answer):
        if not piece:
            continue
        found = text.find(piece, pos)
        if found < 0:
            return False
        pos = found + len(piece)
    return True


@settings(max_examples=400, deadline=None)
@given(text=st.one_of(st.text(), TAGGY), fmt=st.sampled_from(sorted(FORMATS)), prefilled=st.booleans())
@example(text="<answer>", fmt="hunyuan", prefilled=False)  # a lone answer tag: missing, answer "" (unwrapped)
def test_exactly_one_class_and_pieces_of_the_input_in_order(text: str, fmt: str, prefilled: bool) -> None:
    t = classify(text, fmt, prefilled=prefilled)
    assert isinstance(t.status, TraceStatus)
    assert sum(t.status is s for s in TraceStatus) == 1
    assert _in_order(text, t)
    if t.status is TraceStatus.TRUNCATED:
        assert t.answer == ""
    if t.status is TraceStatus.MISSING:
        assert t.reasoning == "" and not prefilled
        tags = {tag for d in FORMATS[fmt].delimiters for w in d.wrappers for tag in w if tag}
        if not any(tag in text for tag in tags):  # with no answer tag the whole text is the answer ...
            assert t.answer == text.strip()
        else:  # ... else the answer is what the tags wrap (a missing trace's answer is unwrapped too)
            assert t.answer in text
    if t.status is TraceStatus.VALID:
        assert t.reasoning.strip()
    if t.status is TraceStatus.EMPTY:
        assert t.reasoning == ""


@settings(max_examples=200, deadline=None)
@given(body=st.text(), answer=st.text())
def test_reconstructed_generation_round_trips(body: str, answer: str) -> None:
    if "<think>" in body + answer or "</think>" in body + answer:
        return
    t = classify(f"<think>{body}</think>{answer}")
    assert t.status == ("valid" if body.strip() else "empty")
    assert t.reasoning == body.strip() and t.answer == answer.strip()


# ---- hostile sizes: these finish in linear time (a quadratic scan would hang the suite) ----------------------

@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_hostile_inputs_complete(fmt: str) -> None:
    mb = 1_000_000
    cases = {
        "1MB of text": "x" * mb,
        "1MB of '<'": "<" * mb,
        "10k openers": "<think>" * 10_000,
        "10k closers": "</think>" * 10_000 + "42",
        "10k blocks": "<think>a</think>" * 10_000,
        "10k near misses": "<thin" * 10_000 + "</think>42",
        "1MB unicode": "∑😀é\u200b" * (mb // 4),
    }
    for name, text in cases.items():
        for prefilled in (False, True):
            t = classify(text, fmt, prefilled=prefilled)
            assert t.status in set(TraceStatus), name
            assert isinstance(t.answer, str) and isinstance(t.reasoning, str) and t.blocks >= 0


# ---- issue 10 bug classes: each test failed before the fix ------------------------------------------------

HARMONY_ANALYSIS = "<|channel|>analysis<|message|>Need JSON.<|end|>"


@pytest.mark.parametrize(("tail", "answer"), [
    ("<|start|>assistant<|channel|>final <|constrain|>json<|message|>{\"a\": 1}<|return|>", "{\"a\": 1}"),
    ("<|start|>assistant<|channel|>final<|message|>42<|return|>", "42"),
    ("<|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>"
     "{\"city\": \"Paris\"}<|call|>", "{\"city\": \"Paris\"}"),
    ("<|start|>assistant to=functions.lookup<|channel|>commentary json<|message|>{\"q\": 2}<|call|>", "{\"q\": 2}"),
    ("<|start|>assistant<|channel|>commentary<|message|>Calling the tool now.<|end|>", "Calling the tool now."),
])
def test_gpt_oss_any_non_analysis_header_ends_the_trace(tail: str, answer: str) -> None:
    t = classify(HARMONY_ANALYSIS + tail, "gpt_oss")
    assert (t.status, t.reasoning, t.answer) == ("valid", "Need JSON.", answer)


@pytest.mark.parametrize("tail", [
    "<|start|>assistant<|channel|>analysis to=functions.get_weather <|constrain|>json<|message|>"
    "{\"city\": \"P\"}<|call|>",
    "<|start|>assistant to=functions.get_weather<|channel|>analysis json<|message|>{\"city\": \"P\"}<|call|>",
    "<|start|>assistant to=functions.get_weather<|channel|>analysis <|constrain|>json<|message|>{\"city\": \"P\"}",
])
def test_gpt_oss_function_call_on_the_analysis_channel_ends_the_trace(tail: str) -> None:
    """gpt-oss also calls functions on the analysis channel (harmony allows it; vLLM's HarmonyParser reads any
    functions.* recipient as a tool call): the call ends the trace, it is not more reasoning."""
    t = classify(HARMONY_ANALYSIS + tail, "gpt_oss")
    assert (t.status, t.reasoning, t.answer) == ("valid", "Need JSON.", "{\"city\": \"P\"}")


def test_gpt_oss_answer_is_the_first_message_after_the_trace_not_the_framing_after_it() -> None:
    """A tool-call preamble (commentary, no recipient) ends at its <|end|>: the call's header and arguments
    after it are not part of the answer text."""
    t = classify(HARMONY_ANALYSIS + "<|start|>assistant<|channel|>commentary<|message|>Checking.<|end|>"
                 "<|start|>assistant<|channel|>commentary to=functions.f <|constrain|>json<|message|>{}<|call|>",
                 "gpt_oss")
    assert (t.status, t.reasoning, t.answer) == ("valid", "Need JSON.", "Checking.")


@pytest.mark.parametrize("final", ["<|channel|>final<|message|>42", "<|channel|>final <|constrain|>json<|message|>42"])
@pytest.mark.parametrize("end", ["<|return|>", ""])
def test_gpt_oss_final_message_is_the_answer_after_a_preamble(final: str, end: str) -> None:
    t = classify(HARMONY_ANALYSIS + "<|start|>assistant<|channel|>commentary<|message|>Checking.<|end|>"
                 "<|start|>assistant" + final + end, "gpt_oss")
    assert (t.status, t.reasoning, t.answer) == ("valid", "Need JSON.", "42")


def test_gpt_oss_builtin_tool_call_on_the_analysis_channel_stays_in_the_trace() -> None:
    """A built-in tool (browser, python) is called on the analysis channel as part of the reasoning."""
    t = classify(HARMONY_ANALYSIS + "<|start|>assistant<|channel|>analysis to=browser.search code<|message|>"
                 "{\"q\": 1}<|call|>", "gpt_oss")
    assert t.status == "truncated" and "to=browser.search" in t.reasoning


def test_gpt_oss_several_analysis_messages_stay_one_trace() -> None:
    text = (HARMONY_ANALYSIS + "<|start|>assistant<|channel|>analysis<|message|>More.<|end|>"
            "<|start|>assistant<|channel|>final<|message|>7<|return|>")
    t = classify(text, "gpt_oss")
    assert t.status == "valid" and t.answer == "7" and "More." in t.reasoning
    assert classify(HARMONY_ANALYSIS + "<|start|>assistant<|channel|>analysis<|message|>cut", "gpt_oss").status \
        == "truncated"


def test_gpt_oss_decoded_without_special_tokens_tool_call() -> None:
    t = classify("analysisNeed the weather.assistantcommentary to=functions.get_weather json{\"city\": \"P\"}",
                 "gpt_oss")
    assert t.status == "valid" and t.reasoning == "Need the weather."


@pytest.mark.parametrize(("text", "fmt"), [
    ("[THINK]The HTML uses </think> as a closing tag, so", "magistral"),
    ("<think>In 2507 the tag is [/THINK], and", "magistral"),
    ("Here is my thought process: the 3.3 tag </think> is", "granite"),
    ("<think>The 3.2 phrase Here is my response: is", "granite"),
    ("<thought>EXAONE 4 writes </think>, but", "exaone"),
    ("<mm:think>M1 wrote </think> to end, but", "minimax"),
    ("<ifm|think_fast>the high-effort closer </ifm|think> differs", "k2_horizon"),
])
def test_a_trace_is_closed_only_by_its_own_spelling(text: str, fmt: str) -> None:
    t = classify(text, fmt)
    assert t.status == "truncated" and t.answer == ""


def test_two_spellings_each_close_their_own_trace() -> None:
    assert classify("<thought>A</thought>1", "exaone").answer == "1"
    assert classify("<think>A</think>1", "exaone").answer == "1"
    assert classify("<mm:think>mentions <think> inside</mm:think>1", "minimax").reasoning == "mentions <think> inside"


@pytest.mark.parametrize("text", [
    "Cohere reasons.<|END_THINKING|><|START_RESPONSE|>42<|END_RESPONSE|>",
    "Cohere reasons.<|END_THINKING|><|START_TEXT|>42<|END_TEXT|>",
])
def test_cohere_both_answer_wrappers_are_unwrapped(text: str) -> None:
    assert classify(text, "cohere", prefilled=True).answer == "42"


def test_answer_wrappers_are_unwrapped_for_a_missing_trace_in_every_family() -> None:
    assert classify("<answer>\nThe answer is 5.\n</answer>", "hunyuan").answer == "The answer is 5."
    checked = 0
    for spec in FORMATS.values():
        for d in spec.delimiters:
            for open_, close in d.wrappers:
                if open_ is None:
                    continue
                text = f"{open_}\nThe answer is 5.\n{close or ''}"
                t = classify(text, spec)
                if t.status != "missing":  # the wrapper doubles as a closer in this family (e.g. gpt-oss final)
                    continue
                assert t.answer == "The answer is 5.", (spec.name, open_)
                checked += 1
    assert checked >= 8


def test_hunyuan_tool_calls_end_an_open_trace() -> None:
    """Hunyuan-A13B calls tools as a JSON array in <tool_calls> (what vLLM's hunyuan_a13b tool parser reads); HY 3/4
    write <tool_call> blocks there. Each family closes on its own engine's grammar only: before, hunyuan expected
    HY's shape, which its engine never reads, and read its own real call as more reasoning (truncated)."""
    call = '<tool_calls>[{"name": "get_weather", "arguments": {"city": "Paris"}}]</tool_calls>'
    t = classify("<think>\nI need the weather.\n" + call, "hunyuan")
    assert (t.status, t.closed_by, t.reasoning, t.answer) == ("valid", "implicit", "I need the weather.", call)
    hy_call = "<tool_calls>\n<tool_call>get_weather<tool_sep>\n<arg_key>city</arg_key>"
    assert classify("<think>I need the weather.\n" + hy_call, "hunyuan").status == "truncated"
    t = classify("<think>I need the weather.\n" + hy_call, "hy")
    assert t.status == "valid" and t.closed_by == "implicit" and t.answer == hy_call
    assert classify("<think>I need the weather.\n" + call, "hy").status == "truncated"
    assert classify("<think>Writing <tool_calls> in prose, then", "hunyuan").status == "truncated"


# ---- issue 21 parser classes: each test failed before the fix ----------------------------------------------

COHERE_CITED = ("<|START_THINKING|>The report says <co>revenue grew 18%</co: 0:[1]> in 2023.<|END_THINKING|>"
                "<|START_RESPONSE|>Revenue grew <co>18%</co: 0:[1,2],1:[3]>.<|END_RESPONSE|>")


def test_cohere_citation_markup_leaves_reasoning_and_answer() -> None:
    """Command A cites inline, '<co>text</co: 0:[1]>'; vLLM's cohere parsers return the text without the markup.
    Before, the markup stayed in both (an exact-match or boxed answer never matched)."""
    t = classify(COHERE_CITED, "cohere")
    assert (t.status, t.reasoning, t.answer) == ("valid", "The report says revenue grew 18% in 2023.",
                                                 "Revenue grew 18%.")
    missing = classify("<|START_RESPONSE|>The answer is <co>42</co: 0:[1]>.<|END_RESPONSE|>", "cohere")
    assert (missing.status, missing.answer) == ("missing", "The answer is 42.")
    prefilled = classify("Check <co>x</co: 2:[0]>.<|END_THINKING|><|START_TEXT|>\\boxed{<co>7</co: 0:[4]>}"
                         "<|END_TEXT|>", "cohere", prefilled=True)
    assert (prefilled.reasoning, prefilled.answer) == ("Check x.", "\\boxed{7}")
    cut = classify("<|START_THINKING|>Cited <co>y</co: 0:[1]> and", "cohere")
    assert (cut.status, cut.reasoning) == ("truncated", "Cited y and")


def test_cohere_citation_offsets_still_span_the_raw_text_and_records_read_them_clean() -> None:
    from lm_eval_thinkpack.classify import strip_markup
    from lm_eval_thinkpack.records import record_fields

    t = classify(COHERE_CITED, "cohere")
    offs = t.offsets()
    assert "<co>" in COHERE_CITED[slice(*offs["answer"])]
    assert strip_markup(COHERE_CITED[slice(*offs["answer"])], "cohere") == t.answer
    rec = {"v": 2, "status": "valid", "format": "cohere", "spans": {k: list(v) for k, v in offs.items()}}
    fields = record_fields(rec, COHERE_CITED)
    assert (fields["reasoning"], fields["answer"]) == (t.reasoning, t.answer)


def test_inline_markup_is_only_the_citation_grammar() -> None:
    """Text that merely looks like markup stays: only '<co>' and a '</co: DOC:[SPANS]>' closer are taken out."""
    t = classify("<|START_RESPONSE|>Use </co> or <co: x> and a<b, c>d.<|END_RESPONSE|>", "cohere")
    assert t.answer == "Use </co> or <co: x> and a<b, c>d."
    assert classify("<think>a <co>b</co: 0:[1]></think>c <co>d</co: 0:[1]>", "think").answer == \
        "c <co>d</co: 0:[1]>"  # another family's output keeps it: the markup is Cohere's


@pytest.mark.parametrize("text", [
    "<|start|><|channel|>final<|message|>42<|return|>",
    "<|start|>assistant<|channel|>final<|message|>42<|return|>",
    "<|channel|>final<|message|>42<|return|>",
])
def test_gpt_oss_bare_start_before_a_final_header_is_no_trace(text: str) -> None:
    """A generation may begin with a bare <|start|> (the engine put the role in the prompt). A final header with
    no analysis message before it is no reasoning: before, the bare <|start|> read as a valid trace."""
    t = classify(text, "gpt_oss")
    assert (t.status, t.reasoning, t.answer) == ("empty", "", "42")
    later = classify("<|start|><|channel|>analysis<|message|>Think.<|end|><|start|><|channel|>final<|message|>42",
                     "gpt_oss")
    assert (later.status, later.reasoning, later.answer) == ("valid", "Think.", "42")


@pytest.mark.parametrize(("fmt", "text"), [
    ("qwen3", "<think>I could emit <tool_call> here but I will answer directly, since"),
    ("qwen3", "<think>The format is <tool_call> then a name.\n<tool_call>"),
    ("glm", "<think>GLM's <tool_call> tag wraps calls and"),
    ("kimi_k2", "<think>The <|tool_calls_section_begin|> token is"),
    ("cohere", "<|START_THINKING|>I would put <|START_ACTION|> before a plan, but"),
    ("apertus", "<|inner_prefix|>Tools go in <|tools_prefix|> blocks, so"),
])
def test_a_mere_mention_of_a_tool_call_marker_does_not_close(fmt: str, text: str) -> None:
    assert classify(text, fmt).status == "truncated"


@pytest.mark.parametrize(("fmt", "text", "answer"), [
    ("qwen3", "<think>need a tool\n<tool_call>\n<function=add>\n<parameter=a>1", "<tool_call>\n<function=add>"),
    ("qwen3", "<think>need a tool\n<tool_call>\n{\"name\": \"add\"}", "<tool_call>\n{\"name\": \"add\"}"),
    ("qwen3", "<think>mention <tool_call> first, then\n<tool_call>{\"name\": \"f\"}", "<tool_call>{\"name\": \"f\"}"),
    ("glm", "<think>call it<tool_call>add\n<arg_key>a</arg_key>", "<tool_call>add\n<arg_key>a</arg_key>"),
    ("cohere", "<|START_THINKING|>plan<|START_ACTION|>[{\"tool_name\": \"f\"}]", "<|START_ACTION|>[{\"tool_name\""),
    ("apertus", "<|inner_prefix|>plan<|tools_prefix|>[{\"f\": {}}]", "<|tools_prefix|>[{\"f\": {}}]"),
])
def test_a_real_tool_call_closes_implicitly(fmt: str, text: str, answer: str) -> None:
    t = classify(text, fmt)
    assert t.status == "valid" and t.closed_by == "implicit" and t.answer.startswith(answer)
