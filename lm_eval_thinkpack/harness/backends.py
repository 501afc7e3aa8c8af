"""lm-eval model backends that keep what a generation was: the whole trace and why the engine stopped.

* ``thinkpack-chat-completions``: lm-eval's ``local-chat-completions`` (same arguments, same requests), but a
  server's reasoning parser no longer costs the trace. vLLM (``message.reasoning``) and SGLang
  (``message.reasoning_content``) split every generation; each choice is put back together with
  ``generation.reassemble`` in the trace format of the doc it answers (the loader's ``thinkpack_format`` /
  ``thinkpack_prefilled``), and returned as a ``Generation`` carrying the choice's ``finish_reason``.
* ``thinkpack-hf``: lm-eval's ``hf`` model, whose outputs also carry a finish reason: ``"length"`` when a
  generation used all ``max_gen_toks`` tokens without an end-of-sequence token, ``"stop"`` otherwise.

Both are registered with lm-eval's model registry when this module is imported (``lm-eval-thinkpack eval`` does, and
lm-eval releases that read the ``lm_eval.models`` entry points find them through ``setup.cfg``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from lm_eval.api.registry import register_model
from lm_eval.models.huggingface import HFLM
from lm_eval.models.openai_completions import LocalChatCompletion
from lm_eval.models.utils import postprocess_generated_text

from lm_eval_thinkpack.generation import LENGTH, Generation, reassemble

log = logging.getLogger(__name__)

Profile = tuple[str, bool]  # (trace format, prefilled)


class ServerResponseError(ValueError):
    """A server answered with something that is not a chat completion: a harness fault, never a model answer."""


def _choices(output: Any) -> list[Mapping[str, Any]]:
    choices = output.get("choices") if isinstance(output, Mapping) else None
    if not isinstance(choices, list) or not all(isinstance(c, Mapping) for c in choices):
        raise ServerResponseError(
            f"the server's reply has no list of choices: {str(output)[:300]!r}. Check that base_url is the "
            f"server's /v1/chat/completions endpoint.")
    return choices


def choice_generation(choice: Mapping[str, Any], fmt: str, prefilled: bool) -> Generation:
    """One chat-completion choice -> the generation in the model's own trace format, with its finish reason."""
    message = choice.get("message")
    if not isinstance(message, Mapping):
        raise ServerResponseError(f"a choice without a message object: {str(choice)[:300]!r}")
    reasoning = message.get("reasoning")
    if reasoning is None:
        reasoning = message.get("reasoning_content")  # SGLang, older vLLM
    reason = choice.get("finish_reason")
    return Generation(reassemble(reasoning, message.get("content"), fmt, prefilled=prefilled),
                      reason if isinstance(reason, str) else None)


@register_model("thinkpack-chat-completions")
class ThinkpackChatCompletion(LocalChatCompletion):
    """``local-chat-completions`` that reassembles the server's reasoning and content and keeps finish reasons.

    Docs of thinkpack tasks carry their trace profile. For other tasks the profile comes from the model
    arguments the same way the loader finds it (``trace_format`` / ``prefilled``, else detected from
    ``tokenizer`` or ``model``).
    """

    def __init__(self, *args: Any, trace_format: str | None = None, prefilled: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._profile_args = {"trace_format": trace_format, "prefilled": prefilled,
                              "model": kwargs.get("model") or kwargs.get("pretrained"),
                              "tokenizer": kwargs.get("tokenizer")}
        self._fallback: Profile | None = None
        self._active: Profile | None = None

    def _default_profile(self) -> Profile:
        if self._fallback is None:
            from lm_eval_thinkpack.harness.loader import resolve_profile

            prof = resolve_profile({k: v for k, v in self._profile_args.items() if v is not None})
            self._fallback = (prof["thinkpack_format"], prof["thinkpack_prefilled"])
        return self._fallback

    def _profile_of(self, request: Any) -> Profile:
        doc = getattr(request, "doc", None)
        if isinstance(doc, Mapping) and doc.get("thinkpack_format"):
            return str(doc["thinkpack_format"]), bool(doc.get("thinkpack_prefilled", False))
        return self._default_profile()

    def generate_until(self, requests: Sequence[Any], disable_tqdm: bool = False) -> list[Generation]:
        # one pass per trace profile (a run of thinkpack tasks has one): parse_generations then knows the
        # format of every reply it sees, on the sync and the concurrent path alike
        groups: dict[Profile, list[int]] = {}
        for i, req in enumerate(requests):
            groups.setdefault(self._profile_of(req), []).append(i)
        out: list[Any] = [None] * len(requests)
        for profile, idx in groups.items():
            self._active = profile
            try:
                res = super().generate_until([requests[i] for i in idx], disable_tqdm=disable_tqdm)
            finally:
                self._active = None
            for i, r in zip(idx, res, strict=True):
                out[i] = r
        return out

    def parse_generations(self, outputs: Any, **kwargs: Any) -> list[Generation]:
        fmt, prefilled = self._active or self._default_profile()
        res: list[Generation] = []
        for output in outputs if isinstance(outputs, list) else [outputs]:
            choices = _choices(output)
            tmp: list[Any] = [None] * len(choices)
            for pos, choice in enumerate(choices):
                index = choice.get("index", pos)
                if not isinstance(index, int) or not 0 <= index < len(choices) or tmp[index] is not None:
                    raise ServerResponseError(f"choice index {index!r} out of place in {str(output)[:300]!r}")
                tmp[index] = choice_generation(choice, fmt, prefilled)
            res.extend(tmp)
        return res


def _finish_reason(tokens: Sequence[int], budget: int, end_ids: frozenset[int]) -> str:
    """``"length"`` when the row has no end token and used the whole budget; ``"stop"`` otherwise."""
    if any(t in end_ids for t in tokens):
        return "stop"
    return LENGTH if len(tokens) >= budget else "stop"


@register_model("thinkpack-hf")
class ThinkpackHFLM(HFLM):
    """lm-eval's ``hf`` model whose generations are ``Generation`` objects with a finish reason.

    ``_model_generate`` sees each batch's token ids; the finish reason of each row is recorded under the text
    ``generate_until`` makes of it (the same decode and post-processing), and attached to the results. A text
    met twice with different reasons (no case seen) gets None: unknown, never a guess.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._reasons: dict[str, set[str]] | None = None

    def _end_ids(self) -> frozenset[int]:
        ids: set[int] = set()
        for source in (self.tokenizer.eos_token_id, self.tokenizer.pad_token_id,
                       getattr(getattr(self.model, "generation_config", None), "eos_token_id", None)):
            if isinstance(source, int):
                ids.add(source)
            elif isinstance(source, (list, tuple)):
                ids.update(i for i in source if isinstance(i, int))
        return frozenset(ids)

    def _model_generate(self, context, max_length: int, stop: list[str], **generation_kwargs):
        out = super()._model_generate(context, max_length, stop, **generation_kwargs)
        if self._reasons is not None and self.backend == "causal":
            n_ctx = context.shape[1]
            budget, end_ids = max_length - n_ctx, self._end_ids()
            think_end = self.think_end_token if isinstance(self.think_end_token, str) else None
            for row in out[:, n_ctx:].tolist():
                text = postprocess_generated_text(self.tok_decode(row), stop=stop, think_end_token=think_end)
                self._reasons.setdefault(text, set()).add(_finish_reason(row, budget, end_ids))
        return out

    def generate_until(self, requests, disable_tqdm: bool = False) -> list[Generation]:
        self._reasons = {}
        try:
            res = super().generate_until(requests, disable_tqdm=disable_tqdm)
            reasons = self._reasons
        finally:
            self._reasons = None
        out = []
        for r in res:
            seen = reasons.get(r, set())
            out.append(Generation(r, next(iter(seen)) if len(seen) == 1 else None))
        return out
