"""lm-eval model backends that keep what a generation was: the whole trace and why the engine stopped.

* ``thinkpack-chat-completions``: lm-eval's ``local-chat-completions`` (same arguments, same requests), but a
  server's reasoning parser no longer costs the trace. vLLM (``message.reasoning``) and SGLang
  (``message.reasoning_content``) split every generation; each choice is put back together with
  ``generation.reassemble`` in the trace format of the doc it answers (the loader's ``thinkpack_format`` /
  ``thinkpack_prefilled``), and returned as a ``Generation`` carrying the choice's ``finish_reason``.
  Every reply is checked inside the retried call: an HTTP error, a timeout, a 200 reply that carries an error
  object, a ``null`` body, no choices, or a message with no text at all is retried (a 429's ``Retry-After`` is
  honoured, up to ``RETRY_AFTER_CAP`` seconds); after ``max_retries`` attempts that sample gets a ``Generation``
  with a ``fault``: a harness error (counted, left out of pass@1), never the end of the run. Content given as a
  list of parts is read as their text.
* ``thinkpack-hf``: lm-eval's ``hf`` model, whose outputs also carry a finish reason: ``"length"`` when a
  generation used all ``max_gen_toks`` tokens without an end-of-sequence token, ``"stop"`` otherwise.

Both are registered with lm-eval's model registry when this module is imported (``lm-eval-thinkpack eval`` does, and
lm-eval releases that read the ``lm_eval.models`` entry points find them through ``setup.cfg``).
"""

from __future__ import annotations

import asyncio
import copy
import email.utils
import json
import logging
import time
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
    if not isinstance(choices, list) or not choices or not all(isinstance(c, Mapping) for c in choices):
        error = output.get("error") if isinstance(output, Mapping) else None
        what = (f"an error object: {str(error)[:300]!r}" if error is not None else "a null body" if output is None
                else "no choices" if isinstance(choices, list) else f"no list of choices: {str(output)[:300]!r}")
        raise ServerResponseError(f"the server's reply has {what}. Check that base_url is the server's "
                                  "/v1/chat/completions endpoint.")
    return choices


def _text(value: Any, field: str) -> str | None:
    """A message field as text: a string, None, or a list of content parts (``{"type": "text", "text": ...}``)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list):
        parts = [p.get("text") if isinstance(p, Mapping) else p for p in value]
        if all(isinstance(p, str) for p in parts):
            return "".join(parts)
    raise ServerResponseError(f"message.{field} is neither text nor a list of text parts: {str(value)[:300]!r}")


def choice_generation(choice: Mapping[str, Any], fmt: str, prefilled: bool) -> Generation:
    """One chat-completion choice -> the generation in the model's own trace format, with its finish reason."""
    message = choice.get("message")
    if not isinstance(message, Mapping):
        raise ServerResponseError(f"a choice without a message object: {str(choice)[:300]!r}")
    reasoning = _text(message.get("reasoning"), "reasoning")
    if reasoning is None:
        reasoning = _text(message.get("reasoning_content"), "reasoning_content")  # SGLang, older vLLM
    content = _text(message.get("content"), "content")
    if content is None and reasoning is None:
        raise ServerResponseError(f"a message with no text (content and reasoning null): {str(choice)[:300]!r}")
    reason = choice.get("finish_reason")
    return Generation(reassemble(reasoning, content, fmt, prefilled=prefilled),
                      reason if isinstance(reason, str) else None)


class _Parsed(list):
    """Generations already checked inside the retried call; ``parse_generations`` passes them through."""


def _retry_after(value: str | None) -> float | None:
    """Seconds a ``Retry-After`` header asks for (a number of seconds or an HTTP date), or None."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


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
        if isinstance(outputs, _Parsed):  # checked (or given up on) inside the retried call
            return list(outputs)
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

    # ------------------------------------------------------------------ each reply checked inside the retries

    #: the longest wait a 429's Retry-After gets (seconds); the backoff between other attempts (seconds)
    RETRY_AFTER_CAP = 60.0
    BACKOFF_MIN, BACKOFF_MAX = 1.0, 10.0

    def _backoff(self, attempt: int) -> float:
        return min(self.BACKOFF_MAX, max(self.BACKOFF_MIN, 0.5 * 2 ** attempt))  # as lm-eval's own retry

    def _outcome(self, status: int, retry_after: str | None, body: str, n: int,
                 attempt: int) -> tuple[list[Generation] | None, str, float | None]:
        """(generations, "", None) for a good reply; else (None, reason, seconds to wait, or None: do not retry)."""
        if status == 429:
            wait = _retry_after(retry_after)
            return None, "HTTP 429 (rate limited)", (self._backoff(attempt) if wait is None
                                                    else min(wait, self.RETRY_AFTER_CAP))
        if status >= 500 or status in (408, 409):
            return None, f"HTTP {status}: {body[:200]!r}", self._backoff(attempt)
        if status >= 400:  # the request itself is refused (too long, bad parameter): asking again will not help
            return None, f"HTTP {status}: {body[:200]!r}", None
        try:
            gens = self.parse_generations(json.loads(body))
            if len(gens) != n:
                raise ServerResponseError(f"{len(gens)} choices for {n} prompts")
        except (ValueError, ServerResponseError) as err:  # not JSON, or not a usable completion
            return None, " ".join(str(err).split())[:300], self._backoff(attempt)
        return gens, "", None

    def _give_up(self, reason: str, n: int) -> _Parsed:
        from lm_eval_thinkpack.harness.preflight import warn_once

        warn_once(log, f"server-fault:{reason[:40]}", "lm-eval-thinkpack: no usable reply after %d attempts (%s); the "
                  "sample is a harness error (not scored, counted in harness_errors) and the run goes on",
                  self.max_retries, reason)
        return _Parsed([Generation("", None, fault=reason)] * n)

    def model_call(self, messages: Any, *, generate: bool = True, gen_kwargs: dict | None = None,
                   **kwargs: Any) -> Any:
        if not generate:
            return super().model_call(messages, generate=generate, gen_kwargs=gen_kwargs, **kwargs)
        import requests

        payload = self._create_payload(self.create_message(messages), generate=True,
                                       gen_kwargs=copy.deepcopy(gen_kwargs), seed=self._seed, eos=self.eos_string,
                                       **kwargs)
        reason = "no attempt"
        for attempt in range(max(1, self.max_retries)):
            try:
                response = requests.post(self.base_url, json=payload, headers=self.header,
                                         verify=self.verify_certificate, timeout=self.timeout)
            except requests.RequestException as err:
                reason, wait = f"{type(err).__name__}: {str(err)[:200]}", self._backoff(attempt)
            else:
                gens, reason, wait = self._outcome(response.status_code, response.headers.get("Retry-After"),
                                                   response.text, len(messages), attempt)
                if gens is not None:
                    return _Parsed(gens)
            if wait is None:
                break
            if attempt + 1 < self.max_retries:
                log.info("lm-eval-thinkpack: retrying a request (%s) in %.1f s", reason, wait)
                time.sleep(wait)
        return self._give_up(reason, len(messages))

    async def amodel_call(self, session: Any, sem: asyncio.Semaphore, messages: Any, *, generate: bool = True,
                          cache_keys: list | None = None, ctxlens: list[int] | None = None,
                          gen_kwargs: dict | None = None, **kwargs: Any) -> Any:
        if not generate:
            return await super().amodel_call(session, sem, messages, generate=generate, cache_keys=cache_keys,
                                             ctxlens=ctxlens, gen_kwargs=gen_kwargs, **kwargs)
        import aiohttp

        payload = self._create_payload(self.create_message(messages), generate=True,
                                       gen_kwargs=copy.deepcopy(gen_kwargs), seed=self._seed, **kwargs)
        reason, gens = "no attempt", None
        for attempt in range(max(1, self.max_retries)):
            async with sem:
                try:
                    async with session.post(self.base_url, json=payload, headers=self.header,
                                            timeout=aiohttp.ClientTimeout(total=self.timeout)) as response:
                        body = await response.text()
                        gens, reason, wait = self._outcome(response.status, response.headers.get("Retry-After"),
                                                           body, len(messages), attempt)
                except (aiohttp.ClientError, asyncio.TimeoutError) as err:
                    reason, wait = f"{type(err).__name__}: {str(err)[:200]}", self._backoff(attempt)
            if gens is not None:
                if cache_keys:
                    for res, key in zip(gens, cache_keys, strict=False):
                        self.cache_hook.add_partial("generate_until", key, res)
                return list(gens)
            if wait is None:
                break
            if attempt + 1 < self.max_retries:
                log.info("lm-eval-thinkpack: retrying a request (%s) in %.1f s", reason, wait)
                await asyncio.sleep(wait)
        return list(self._give_up(reason, len(messages)))


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
