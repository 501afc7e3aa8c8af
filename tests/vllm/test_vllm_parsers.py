"""Differential test: our ``classify`` against vLLM 0.32.0's own reasoning parsers, family by family.

For every family the registry maps to a vLLM parser, random generations of all four classes (prefilled and
not, every spelling, realistic shapes: multi-line bodies, tool calls, text before the opener, second blocks,
delimiters mentioned in the body, answer tags) go through ``classify(text, fmt, prefilled=...)`` and through
``ReasoningParserManager.get_reasoning_parser(NAME)(tokenizer).extract_reasoning(text, request)``.

Where the definitions coincide the outcome (class as vLLM can express it, reasoning, answer) must be equal.
Where they differ on purpose, the difference is a named rewrite in ``differential.DIFFERENCES`` (its reason
is there): the generation is then accepted only if vLLM's outcome is exactly what our classifier gives on
the rewritten case, so a pinned difference cannot hide a new one. Each difference also has its own test
below on a minimal input, with ours and vLLM's values written out.
"""

from __future__ import annotations

import pytest

from lm_eval_thinkpack import classify
from lm_eval_thinkpack.formats import FORMATS

from . import differential as D

PAIRS = D.pairs()
COMPARED = [p for p in PAIRS if p.parser in D.SPECS and not D.SPECS[p.parser].pending]


@pytest.fixture(scope="session")
def results() -> dict[str, D.PairResult]:
    return {p.id: D.run_pair(p) for p in COMPARED}


def test_every_declared_parser_is_one_vllm_ships() -> None:
    from vllm.reasoning import ReasoningParserManager

    shipped = set(ReasoningParserManager.list_registered())
    declared = {p.parser for p in PAIRS}
    assert declared, "no family maps to a vLLM parser: the tier would compare nothing"
    assert declared <= shipped, f"not a vLLM 0.32 reasoning parser: {sorted(declared - shipped)}"


def test_parsers_marked_newer_are_not_in_this_vllm_and_the_rest_are() -> None:
    from vllm.reasoning import ReasoningParserManager

    shipped = set(ReasoningParserManager.list_registered())
    named = {p for f in FORMATS.values() for p in f.vllm_parsers}
    newer = {p for p in named if p not in {q for f in FORMATS.values() for q in D.vllm_parsers(f)}}
    assert newer == set(D.VLLM_PARSERS_SINCE), "the tier's vLLM is 0.32: only the 0.33 names are left out"
    assert not newer & shipped, f"marked newer than this vLLM but shipped: {sorted(newer & shipped)}"
    assert named - newer <= shipped


def test_every_declared_parser_is_compared_or_pinned_as_not_comparable() -> None:
    loose = {p.parser for p in PAIRS} - set(D.SPECS) - set(D.NOT_COMPARABLE) - set(D.PENDING)
    assert not loose, f"parsers with neither a Spec nor a NOT_COMPARABLE/PENDING reason: {sorted(loose)}"
    assert not set(D.SPECS) & set(D.NOT_COMPARABLE)
    assert {n for n, s in D.SPECS.items() if s.pending} <= set(D.PENDING)


def test_tokenizer_holds_every_delimiter_as_one_token(tokenizer) -> None:
    vocab = tokenizer.get_vocab()
    for fmt in FORMATS.values():
        for d in fmt.delimiters:
            for tag in (*d.open, *d.close):
                for piece in D.vocabulary_pieces(tag):
                    ids = tokenizer.encode(piece, add_special_tokens=False)
                    assert ids == [vocab[piece]], f"{fmt.name}: {piece!r} is not one token: {ids}"
    text = "a <think>é 😀\n</think> done"
    assert tokenizer.decode(tokenizer.encode(text, add_special_tokens=False)) == text  # byte-level round trip


@pytest.mark.parametrize("pair", COMPARED, ids=lambda p: p.id)
def test_agrees_with_vllm_parser_on_random_generations(pair: D.Pair, results: dict[str, D.PairResult]) -> None:
    r = results[pair.id]
    shown = "\n".join(f"  {text!r} prefilled={pre}\n    ours={o}\n    vllm={v}\n    predicted={e}"
                      for text, pre, o, v, e in r.failures[:5])
    assert not r.failures, f"{pair.id}: {len(r.failures)} of {r.cases} disagree beyond the pinned differences:\n{shown}"
    assert r.agree > 0
    kinds = D.SPECS[pair.parser].kinds or ("valid", "empty", "truncated")
    for kind in kinds:
        assert (kind, True) in r.kinds or (kind, False) in r.kinds, f"{pair.id}: no {kind} generations compared"


def test_every_difference_a_parser_declares_occurs(results: dict[str, D.PairResult]) -> None:
    used = {name for p in COMPARED for name in D.SPECS[p.parser].differences}
    seen = {name for r in results.values() for key in r.pinned for name in key.split(" + ")}
    assert used <= seen, f"declared differences that no generation needed (dead rewrites): {sorted(used - seen)}"


# --- each deliberate difference on a minimal input: (family, parser, text, prefilled, ours, vLLM's raw) ---

MINIMAL = {
    "assumes_prefilled": [
        ("deepseek_r1", "deepseek_r1", "The answer is 42.", False,
         ("missing", "", "The answer is 42."), ("The answer is 42.", None)),
        ("qwen3", "qwen3", "The answer is 42.", False,
         ("missing", "", "The answer is 42."), ("The answer is 42.", None)),
    ],
    "cuts_at_first_opener": [
        ("deepseek_r1", "deepseek_r1", "a\n</think>\n42 <think>b</think>c", True,
         ("valid", "a", "42 <think>b</think>c"), ("b", "c")),
    ],
    "drops_openers_in_trace": [
        ("qwen3", "qwen3", "Sure. <think></think>42", False, ("empty", "", "42"), ("Sure. ", "42")),
        ("qwen3", "qwen3", "<think>the tag <think> opens</think>42", False,
         ("valid", "the tag <think> opens", "42"), ("the tag  opens", "42")),
    ],
    "drops_closers_in_answer": [
        ("qwen3", "qwen3", "<think>a</think>42 <think>b</think>c", False,
         ("valid", "a", "42 <think>b</think>c"), ("a", "42 <think>bc")),
    ],
    "later_blocks_join_reasoning": [
        ("glm", "glm45", "<think>a</think>42 <think>b</think>c", False,
         ("valid", "a", "42 <think>b</think>c"), ("ab", "42 c")),
        ("inkling", "inkling", "<|content_thinking|>a<|end_message|>42<|content_thinking|>b<|end_message|>", False,
         ("valid", "a", "42<|content_thinking|>b<|end_message|>"), ("ab", "42")),
        # a later block ends at its first closer, whichever spelling (end of sampling here)
        ("inkling", "inkling", "<|content_thinking|>a<|end_message|><|content_thinking|>b<|content_model_end_sampling|>"
         "42<|content_thinking|>c<|end_message|>", False, ("valid", "a", "<|content_thinking|>b"
         "<|content_model_end_sampling|>42<|content_thinking|>c<|end_message|>"), ("abc", "42")),
    ],
    "needs_opener": [
        ("magistral", "mistral", "a[/THINK]42", False, ("valid", "a", "42"), (None, "a42")),
    ],
    "opener_restarts_trace": [
        ("minimax", "minimax_m3", "a <mm:think> b</mm:think>42", True,
         ("valid", "a <mm:think> b", "42"), (" b", "a 42")),
    ],
    "preamble_is_content": [
        ("magistral", "mistral", "Hi! [THINK]a[/THINK]42", False, ("valid", "a", "42"), ("a", "Hi! 42")),
        ("magistral", "mistral", "Hi! [THINK]a", False, ("truncated", "a", ""), ("a", "Hi! ")),
        # a tool call that ends the trace comes after the preamble in the content
        ("gemma4", "gemma4", "Sure. <|channel>thought\na\n<|tool_call>call:f{}<tool_call|>", False,
         ("valid", "a", "<|tool_call>call:f{}<tool_call|>"), ("a", "Sure. <|tool_call>call:f{}<tool_call|>")),
        # a block that holds only the channel label and blanks is no reasoning to vLLM too
        ("gemma4", "gemma4", "Sure. <|channel>thought \n<channel|>42", False, ("empty", "", "42"), (None, "Sure. 42")),
    ],
    "answer_tags_kept": [
        ("cohere", "cohere_command3", "<|START_THINKING|>abc<|END_THINKING|><|START_TEXT|>42<|END_TEXT|>", False,
         ("valid", "abc", "42"), ("abc", "<|START_TEXT|>42<|END_TEXT|>")),
        # the kept wrapper is plain text: the text after a later block follows it, not inside it
        ("cohere", "cohere_command3",
         "<|START_THINKING|>a<|END_THINKING|><|START_TEXT|>42<|END_TEXT|><|START_THINKING|>b<|END_THINKING|>more",
         False, ("valid", "a", "42"), ("ab", "<|START_TEXT|>42<|END_TEXT|>more")),
    ],
    "text_before_wrapper_joins_answer": [
        ("cohere", "cohere_command3", "<|START_THINKING|>a<|END_THINKING|>so<|START_RESPONSE|>42<|END_RESPONSE|>",
         False, ("valid", "a", "42"), ("a", "so42")),
        # a prefilled trace: Command 3's parser starts in content, so the reasoning is text before the wrapper
        ("cohere", "cohere_command3", "abc<|END_THINKING|><|START_RESPONSE|>42<|END_RESPONSE|>", True,
         ("valid", "abc", "42"), (None, "abc42")),
        ("cohere", "cohere_command3",
         "abc<|END_THINKING|><|START_RESPONSE|>42<|END_RESPONSE|><|START_THINKING|>b<|END_THINKING|>more", True,
         ("valid", "abc", "42"), ("b", "abc42more")),
    ],
    "tool_calls_not_content": [
        ("cohere", "cohere_command3",
         '<|START_THINKING|>abc<|END_THINKING|><|START_ACTION|>[{"tool_name": "f"}]<|END_ACTION|>', False,
         ("valid", "abc", '<|START_ACTION|>[{"tool_name": "f"}]<|END_ACTION|>'), ("abc", None)),
        # harmony: the call message goes to tool_calls, in either header order, on commentary or analysis
        ("gpt_oss", "openai_gptoss",
         '<|channel|>analysis<|message|>a<|end|><|start|>assistant<|channel|>commentary to=functions.f '
         '<|constrain|>json<|message|>{"x": 1}<|call|>', False, ("valid", "a", '{"x": 1}'), ("a", None)),
        ("gpt_oss", "openai_gptoss",
         '<|channel|>analysis<|message|>a<|end|><|start|>assistant to=functions.f<|channel|>analysis json'
         '<|message|>{"x": 1}<|call|>', False, ("valid", "a", '{"x": 1}'), ("a", None)),
    ],
    "reasoning_messages_joined": [
        ("gpt_oss", "openai_gptoss",
         "<|channel|>analysis<|message|>a<|end|><|start|>assistant<|channel|>analysis<|message|>b<|end|>"
         "<|start|>assistant<|channel|>final<|message|>42<|return|>", False,
         ("valid", "a<|end|><|start|>assistant<|channel|>analysis<|message|>b", "42"), ("a\nb", "42")),
        # a built-in tool call on the analysis channel is reasoning to both (the output stops at its <|call|>)
        ("gpt_oss", "openai_gptoss",
         "<|channel|>analysis<|message|>a<|end|><|start|>assistant to=python<|channel|>analysis code<|message|>"
         "print(6*7)<|call|>", False,
         ("truncated", "a<|end|><|start|>assistant to=python<|channel|>analysis code<|message|>print(6*7)<|call|>", ""),
         ("a\nprint(6*7)", None)),
    ],
    "content_messages_joined": [
        ("gpt_oss", "openai_gptoss",
         "<|channel|>analysis<|message|>a<|end|><|start|>assistant<|channel|>commentary<|message|>Checking.<|end|>"
         "<|start|>assistant<|channel|>final<|message|>42<|return|>", False,
         ("valid", "a", "42"), ("a", "Checking.\n42")),
    ],
    "cut_header_is_content": [
        ("gpt_oss", "openai_gptoss", "<|channel|>analysis<|message|>a<|end|><|start|>assistant<|channel|>fin", False,
         ("truncated", "a<|end|><|start|>assistant<|channel|>fin", ""), ("a", "<|start|>assistant<|channel|>fin")),
    ],
    "other_call_dialect": [
        ("deepseek_v4", "deepseek_v4",
         '<think>a\n<\uff5cDSML\uff5c calls><\uff5cDSML\uff5c invoke name="calc"></\uff5cDSML\uff5c invoke>', False,
         ("valid", "a", '<\uff5cDSML\uff5c calls><\uff5cDSML\uff5c invoke name="calc"></\uff5cDSML\uff5c invoke>'),
         ('a\n<\uff5cDSML\uff5c calls><\uff5cDSML\uff5c invoke name="calc"></\uff5cDSML\uff5c invoke>', None)),
        ("kimi_k3", "kimi_k3", 'a<|open|>tools<|sep|><|open|>call tool="f" index="1"<|sep|><|close|>call<|sep|>', True,
         ("valid", "a", '<|open|>tools<|sep|><|open|>call tool="f" index="1"<|sep|><|close|>call<|sep|>'),
         ('a<|open|>tools<|sep|><|open|>call tool="f" index="1"<|sep|><|close|>call<|sep|>', None)),
        ("hy", "hy_v4", "<think>a\n<tool_calls>\n<tool_call>calc\n</tool_call>\n</tool_calls>", False,
         ("valid", "a", "<tool_calls>\n<tool_call>calc\n</tool_call>\n</tool_calls>"),
         ("a\n<tool_calls>\n<tool_call>calc\n</tool_call>\n</tool_calls>", None)),
        # MiniCPM 5 has no reasoning parser of its own; minicpmv (Qwen3's grammar) does not end at its call
        ("minicpm5", "minicpmv", '<think>a\n<function name="calc"><param name="x">1</param></function>', False,
         ("valid", "a", '<function name="calc"><param name="x">1</param></function>'),
         ('a\n<function name="calc"><param name="x">1</param></function>', None)),
        ("minimax", "minimax_m3", '<mm:think>a<minimax:tool_call><invoke name="f"></invoke></minimax:tool_call>',
         False, ("valid", "a", '<minimax:tool_call><invoke name="f"></invoke></minimax:tool_call>'),
         ('a<minimax:tool_call><invoke name="f"></invoke></minimax:tool_call>', None)),
    ],
    "header_role_is_reasoning": [
        ("muse", "muse_glimmer", "to=self<|message|>a <|start|>assistant to=f<|message|><atem:function_calls>", False,
         ("valid", "a", "<|start|>assistant to=f<|message|><atem:function_calls>"),
         ("a <|start|>assistant ", "to=f<|message|><atem:function_calls>")),
    ],
    "answer_closer_dropped": [
        ("kimi_k3", "kimi_k3", "a<|close|>think<|sep|>42<|close|>message<|sep|>x", False,
         ("valid", "a", "42"), ("a", "42x")),
    ],
    "label_needs_newline": [
        ("gemma4", "gemma4", "<|channel>thoughta<channel|>42", False, ("valid", "a", "42"), ("thoughta", "42")),
    ],
    "opener_not_read": [
        ("step3", "step3", "Hi <think>a</think>42", False, ("valid", "a", "42"), ("Hi <think>a", "42")),
    ],
    "unclosed_is_content_after_opener": [
        ("k2_horizon", "k2_horizon", "<ifm|think>so 6*7", False, ("truncated", "so 6*7", ""), ("", "so 6*7")),
    ],
    "later_text_joins_answer": [
        ("cohere", "cohere_command4",
         "<|START_THINKING|>a<|END_THINKING|><|START_RESPONSE|>42<|END_RESPONSE|><|START_THINKING|>b<|END_THINKING|>"
         "more", False, ("valid", "a", "42"), ("ab", "42more")),
        # text between the wrapper's close and the later block is dropped (both presets)
        *(("cohere", parser,
           "<|START_THINKING|>a<|END_THINKING|><|START_RESPONSE|>42<|END_RESPONSE|>yy<|START_THINKING|>b"
           "<|END_THINKING|>more", False, ("valid", "a", "42"), ("ab", "42more"))
          for parser in ("cohere_command3", "cohere_command4")),
    ],
    "unclosed_is_content": [
        ("olmo3", "olmo3", "<think>so 6*7", False, ("truncated", "so 6*7", ""), (None, "<think>so 6*7")),
    ],
    "needs_both_delimiters": [
        ("granite", "granite", "Here is my thought process: so 6*7", False, ("truncated", "so 6*7", ""),
         (None, "Here is my thought process: so 6*7")),
    ],
    "header_starts_trace": [
        ("muse", "muse_glimmer", "a<|eom|>42", True, ("valid", "a", "42"), (None, "a<|eom|>42")),
    ],
    "stray_closer_hides_blocks": [
        ("muse", "muse_glimmer", "a<|eom|>42 to=self<|message|>b<|eom|>", True,
         ("valid", "a", "42 to=self<|message|>b<|eom|>"), (None, None)),
    ],
    "self_blocks_join_reasoning": [
        ("muse", "muse_glimmer", "to=self<|message|>a<|eom|>to=user<|message|>42<|eot|>to=self<|message|>b<|eom|>",
         False, ("valid", "a", "42"), ("a\nb", "42")),
    ],
    "open_body_repeated": [
        ("muse", "muse_glimmer", "to=self<|message|>a to=self<|message|>b<|eom|>to=user<|message|>42<|eot|>", False,
         ("valid", "a to=self<|message|>b", "42"), ("a to=self<|message|>b\na ", "42")),
        ("muse", "muse_glimmer", "to=self<|message|>a to=self<|message|>b", False,
         ("truncated", "a to=self<|message|>b", ""), ("a ", None)),
    ],
    "tool_channel_is_content": [
        ("muse", "muse_glimmer",
         'to=self<|message|>a<|eom|>to=user<|message|>42<|eot|>to=f<|message|><atem:invoke name="f"></atem:invoke>',
         False, ("valid", "a", "42"),
         ("a", 'to=user<|message|>42<|eot|>to=f<|message|><atem:invoke name="f"></atem:invoke>')),
    ],
    "answer_needs_channel": [
        ("muse", "muse_glimmer", "to=self<|message|>a<|eom|>42", False, ("valid", "a", "42"), ("a", None)),
    ],
    "header_is_metadata": [
        ("inkling", "inkling", "<|message_model|><|content_thinking|>a<|message_model|><|content_invoke_tool_json|>{}",
         False, ("valid", "a", "<|message_model|><|content_invoke_tool_json|>{}"),
         ("a<|message_model|>", "<|content_invoke_tool_json|>{}")),
        ("inkling", "inkling", "Hi <|message_model|><|content_thinking|>a<|end_message|>42", True,
         ("valid", "Hi <|message_model|><|content_thinking|>a", "42"), ("a", "42")),
        ("inkling", "inkling", "a<|end_message|>42", True, ("valid", "a", "42"), (None, "a42")),
        ("inkling", "inkling", "a<|message_model|><|content_text|>42", True, ("truncated",
         "a<|message_model|><|content_text|>42", ""), (None, "42")),
    ],
    "text_outside_blocks_is_content": [
        ("inkling", "inkling", "<|content_thinking|>a<|end_message|><|content_text|>42<|end_message|>more", False,
         ("valid", "a", "42"), ("a", "42more")),
        ("inkling", "inkling", "<|content_thinking|>a<|end_message|>42<|message_model|><|content_invoke_tool_text|>f",
         False, ("valid", "a", "42<|message_model|><|content_invoke_tool_text|>f"), ("a", "42f")),
        ("inkling", "inkling", "<|content_thinking|>a<|end_message|><|message_model|><|content_invoke_tool_json|>{}"
         "<|end_message|><|message_model|><|content_text|>42<|end_message|>", False, ("valid", "a", "42"),
         ("a", "<|content_invoke_tool_json|>{}<|end_message|>42")),
    ],
    "one_spelling": [
        ("minimax", "minimax_m2", "<mm:think>a</mm:think>42", False, ("valid", "a", "42"),
         ("<mm:think>a</mm:think>42", None)),
    ],
}


@pytest.mark.parametrize(("name", "case"), [(n, c) for n, cs in MINIMAL.items() for c in cs],
                         ids=lambda v: v if isinstance(v, str) else "")
def test_pinned_difference_on_a_minimal_input(name: str, case: tuple) -> None:
    family, parser, text, prefilled, mine, vllm_raw = case
    pair = D.Pair(family, parser, D.THINKING_ON.get(parser, {}))
    t = classify(text, family, prefilled=prefilled)
    assert (str(t.status), t.reasoning, t.answer) == mine
    assert D.raw(pair, text) == vllm_raw
    if parser in D.SPECS:  # the rewrite named here is the one that explains it
        assert name in D.expected(pair, text, prefilled)[1]
        assert D.expected(pair, text, prefilled)[0] == D.theirs(pair, text)


def test_every_difference_has_a_minimal_test() -> None:
    assert set(D.DIFFERENCES) == set(MINIMAL)


# --- parsers the tier cannot compare generation by generation: their behaviour, pinned ---


def test_gpt_oss_legacy_parser_only_detects_boundaries_so_the_harmony_path_is_compared() -> None:
    """openai_gptoss's extract_reasoning raises (boundary detection only): the server reads gpt-oss with
    HarmonyParser on token ids, and that path is what the differential drives (Spec.harmony)."""
    text = "<|channel|>analysis<|message|>a<|end|><|start|>assistant<|channel|>final<|message|>42<|return|>"
    with pytest.raises(NotImplementedError, match="HarmonyParser"):
        D.parser_for(D.Pair("gpt_oss", "openai_gptoss")).extract_reasoning(text, request=None)
    assert "openai_gptoss" not in D.NOT_COMPARABLE and D.SPECS["openai_gptoss"].harmony
    assert D.raw(D.Pair("gpt_oss", "openai_gptoss"), text) == ("a", "42")


def test_gpt_oss_serving_parser_is_harmony_and_reads_token_ids_not_text() -> None:
    """The class the chat server builds for a gpt_oss model is HarmonyParser, and it parses the token ids:
    the same ids with a different text give the same result, and harmony's tags are single special tokens."""
    from vllm.parser.harmony import HarmonyParser
    from vllm.parser.parser_manager import ParserManager

    from . import harmony as H

    cls = ParserManager.get_parser(tool_parser_name="openai", reasoning_parser_name="openai_gptoss",
                                   enable_auto_tools=True, is_harmony=True, tokenizer=H.HarmonyTokenizer())
    assert cls is HarmonyParser
    text = "<|channel|>analysis<|message|>a<|end|><|start|>assistant<|channel|>final<|message|>42<|return|>"
    ids = H.token_ids(text)
    for tag in ("<|channel|>", "<|message|>", "<|end|>", "<|start|>", "<|return|>", "<|call|>", "<|constrain|>"):
        assert len(H.token_ids(tag)) == 1 and H.encoding().is_special_token(H.token_ids(tag)[0]), tag
    reasoning, content, calls = cls(H.HarmonyTokenizer()).parse("unrelated text", H._request(),
                                                                model_output_token_ids=ids)
    assert (reasoning, content, calls) == ("a", "42", None)


def test_gpt_oss_is_compared_without_prefill_because_vllm_renders_the_prompt_to_the_assistant_header() -> None:
    """vLLM renders a gpt-oss chat prompt itself (harmony_utils.render_for_completion) and it ends at
    '<|start|>assistant', never inside the analysis channel, so the Spec compares prefilled=False only.
    An output that starts inside an analysis body is not something this path produces: HarmonyParser reads
    its first words as a message header (here a 'tool call' named by the body), where we read the trace."""
    from vllm.entrypoints.openai.parser.harmony_utils import get_user_message, render_for_completion

    from . import harmony as H

    prompt = H.encoding().decode(render_for_completion([get_user_message("6*7?")]))
    assert prompt.endswith("<|start|>user<|message|>6*7?<|end|><|start|>assistant"), prompt[-80:]
    assert D.SPECS["openai_gptoss"].prefills == (False,) and FORMATS["gpt_oss"].prefilled is False
    text = "a<|end|><|start|>assistant<|channel|>final<|message|>42<|return|>"
    t = classify(text, "gpt_oss", prefilled=True)
    assert (str(t.status), t.reasoning, t.answer) == ("valid", "a", "42")
    h = H.parse(text)
    assert (h.reasoning, h.content) == (None, None) and h.tool_calls == (("a<|end|><|start|>assistant", "42"),)


def test_harmony_vocabulary_rebuild_matches_tiktokens_file_layout() -> None:
    """harmony_vocab.rebuild turns js-tiktoken's ranks module into tiktoken's '{token} {rank}' lines, sorted by
    rank; a module of another layout is refused with the reason."""
    from . import harmony_vocab as V

    module = 'export default {"pat_str": "x", "bpe_ranks": "! 2 Yg== YQ==\\n! 0 IQ== Ig=="};'
    assert V.rebuild(module) == b"IQ== 0\nIg== 1\nYg== 2\nYQ== 3\n"
    with pytest.raises(V.VocabError, match="export default"):
        V.rebuild("module.exports = {}")


def test_cohere_legacy_extract_reasoning_returns_none_so_the_serving_parser_is_compared() -> None:
    text = "<|START_THINKING|>abc<|END_THINKING|><|START_RESPONSE|>42<|END_RESPONSE|>"
    assert D.parser_for(D.Pair("cohere", "cohere_command3")).extract_reasoning(text, request=None) is None
    assert D.SPECS["cohere_command3"].unified
    assert D.raw(D.Pair("cohere", "cohere_command3"), text) == ("abc", "42")


def test_minimax_append_think_returns_the_output_as_content_with_the_opener_restored() -> None:
    """minimax_m2_append_think classifies nothing; the content it hands on is the prefilled trace written
    out. Read by us without prefill, that content gives what we read from the raw output with prefill
    (outputs that write the opener again are left out: there the restored one makes a second)."""
    import random

    from .generations import generate

    assert "minimax_m2_append_think" in D.NOT_COMPARABLE
    pair, fmt = D.Pair("minimax", "minimax_m2_append_think"), FORMATS["minimax"]
    d = next(d for d in fmt.delimiters if d.label == "think")
    rng, seen = random.Random("append_think"), set()
    for kind in ("valid", "empty", "truncated"):
        for _ in range(20):
            text = generate(fmt, d, kind, True, rng).text
            reasoning, content = D.raw(pair, text)
            assert (reasoning, content) == (None, "<think>" + text)
            if "<think>" in text:  # the model wrote the opener again: '<think><think>' keeps one as text
                continue
            t, u = classify(content, "minimax", prefilled=False), classify(text, "minimax", prefilled=True)
            assert (t.status, t.reasoning, t.answer) == (u.status, u.reasoning, u.answer), text
            seen.add(str(u.status))
    assert seen == {"valid", "empty", "truncated"}


HUNYUAN = D.Pair("hunyuan", "hunyuan_a13b", D.THINKING_ON["hunyuan_a13b"])


def test_hunyuan_parser_reads_only_the_exact_template_layout() -> None:
    """hunyuan_a13b is compared on the template's own layout only (Spec.canonical): its regexes need
    '<think>\\n...\\n</think>\\n<answer>\\n...\\n</answer>'. Off that layout it reads no trace, and an unclosed
    trace is content, where we read the tags (valid / truncated)."""
    canonical = "<think>\nso 6*7\n</think>\n<answer>\n42\n</answer>"
    assert D.raw(HUNYUAN, canonical) == ("so 6*7", "42")
    assert classify(canonical, "hunyuan").reasoning == "so 6*7"
    tight = "<think>so 6*7</think><answer>42</answer>"
    assert D.raw(HUNYUAN, tight) == (None, tight)
    assert str(classify(tight, "hunyuan").status) == "valid"
    cut = "<think>\nso 6*7"
    assert D.raw(HUNYUAN, cut) == (None, cut)
    assert str(classify(cut, "hunyuan").status) == "truncated"
