"""Bad configuration gets one clear message each: the problem and the fix, never a bare traceback."""

from __future__ import annotations

import json

import pytest

from lm_eval_thinkpack import UnknownFormatError, classify, detect_format
from lm_eval_thinkpack.harness.adapters import DataFieldsError
from lm_eval_thinkpack.harness.compat import UnsupportedLmEvalError, check_lm_eval_version
from lm_eval_thinkpack.harness.loader import ThinkpackConfigError, load_docs, resolve_profile
from tests.chat_fixtures import make_tokenizer


def test_think_end_token_is_refused_with_the_fix() -> None:
    with pytest.raises(ThinkpackConfigError, match=r"think_end_token='</think>'.*Fix: remove think_end_token"):
        resolve_profile({"pretrained": "Qwen/Qwen3-8B", "think_end_token": "</think>"})


@pytest.mark.parametrize("args", [{"think_end_token": "</think>"}, {"enable_thinking": True}])
def test_refusals_name_this_package_not_the_studys(args) -> None:
    """Before: 'thinkpack cannot classify traces: ...', the name of the study's own package (issue 20)."""
    with pytest.raises(ThinkpackConfigError) as err:
        resolve_profile({"pretrained": "Qwen/Qwen3-8B", **args})
    assert str(err.value).startswith("lm-eval-thinkpack cannot classify traces: ")
    assert "thinkpack's" not in str(err.value)


def test_tokenizer_without_chat_template() -> None:
    with pytest.raises(ValueError, match=r"no chat template.*Pass trace_format=<name> explicitly"):
        detect_format(make_tokenizer(None))


def test_unknown_format_name_everywhere() -> None:
    for call in (lambda: classify("x", "qwen4"), lambda: resolve_profile({"trace_format": "qwen4"})):
        with pytest.raises(UnknownFormatError, match=r"unknown trace format 'qwen4'\. Known formats: .*think"):
            call()


def test_data_file_missing_fields_names_file_fields_and_task(tmp_path) -> None:
    path = tmp_path / "gsm8k.jsonl"
    path.write_text(json.dumps({"question": "1+1?"}) + "\n")
    with pytest.raises(DataFieldsError, match=rf"{path}: task thinkpack_gsm8k needs the fields .*missing: 'answer'"):
        load_docs(thinkpack_task="thinkpack_gsm8k", thinkpack_adapter="gsm8k", data_files=str(path),
                  trace_format="think", prefilled=False)


@pytest.mark.parametrize("found", ["0.4.8", "0.4.12", "0.5.0", "1.0"])
def test_lm_eval_version_outside_the_range(found: str) -> None:
    with pytest.raises(UnsupportedLmEvalError, match=rf"lm-eval {found} is outside the range .*Fix: pip install"):
        check_lm_eval_version(found)


def test_supported_lm_eval_versions_pass() -> None:
    assert check_lm_eval_version("0.4.13") == "0.4.13"
    assert check_lm_eval_version() >= "0.4.13"  # the installed one
    with pytest.raises(UnsupportedLmEvalError, match="cannot read the lm-eval version"):
        check_lm_eval_version("not-a-version")
