"""report_memory: peak RSS of ``lm-eval-thinkpack report`` against the size of its input, in one run.

Two lm-eval output folders of the same shape as lm-eval 0.4.13 writes for its gsm8k task with ``--log_samples``
(a ``results_<ts>.json`` and ``samples_gsm8k_<ts>.jsonl`` holding each doc once per filter, strict-match and
flexible-extract, each line with the doc, the prompt, the raw response in ``resps`` and the extracted answer),
the responses from ``common.gsm8k_like`` (long ``<think>`` traces, some empty, missing or truncated): a small
folder (200 docs, about 3.6 MB of samples) and a large one (20,000 docs, about 344 MB). Each is reported in a
fresh interpreter, as the CLI runs (``report.cli.main(["report", FOLDER, "--format", "qwen3"])``: the task is
not a thinkpack task, so the responses are classified from the log and scored by gsm8k's own exact_match), and
the interpreter's peak RSS
(``VmHWM``) is read at the end. The same large folder read with ``load_run(keep_text=True)`` (the Python
API's default, which keeps every text) is the baseline: memory that grows with the input.

Printed: peak RSS of the small and the large input, their ratio (bounded memory: close to 1 although the input
is ~100x larger), and the growth in bytes of peak RSS per byte of input between the two.

    python bench/bench_report_memory.py            # 200 and 20,000 docs (about a minute)
    python bench/bench_report_memory.py --quick    # 200 and 4,000 docs
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from common import ROOT, gsm8k_like, report, save  # noqa: I001 (bench/ is the script folder)

TS = "2026-12-06T00-00-00.000000"
CHILD = """
import sys
sys.path.insert(0, {root!r})
mode, folder = sys.argv[1], sys.argv[2]
import contextlib, io
from lm_eval_thinkpack.report.cli import main  # the report subcommand itself (same imports on both sides)
if mode == "cli":
    with contextlib.redirect_stdout(io.StringIO()):
        rc = main(["report", folder, "--format", "qwen3", "--no-progress"])
    assert rc == 0, rc
else:
    from lm_eval_thinkpack.report.readers import load_run
    from lm_eval_thinkpack.report.summary import summarize
    summarize(load_run(folder, fmt="qwen3", keep_text=True, progress=False))
# VmHWM: the peak of this process image (ru_maxrss would carry the parent's peak across fork and exec)
print(next(int(x.split()[1]) * 1024 for x in open("/proc/self/status") if x.startswith("VmHWM:")))
"""


def write_run(folder: Path, n: int) -> int:
    """An lm-eval-shaped gsm8k output folder of ``n`` docs; returns the bytes of its samples file."""
    import re

    docs, resps = gsm8k_like(n, seed=1)
    folder.mkdir(parents=True)
    strict, flexible = re.compile(r"#### (\-?[0-9\.\,]+)"), re.compile(r"(-?[$0-9.,]{2,})|(-?[0-9]+)")
    samples = folder / f"samples_gsm8k_{TS}.jsonl"
    with samples.open("w", encoding="utf-8") as fh:
        for i, (doc, resp) in enumerate(zip(docs, resps, strict=True)):
            gold = doc["answer"].split("#### ")[-1]
            m = strict.search(resp)
            flex = [x for x in flexible.findall(resp)]
            for name, got in (("strict-match", m.group(1) if m else "[invalid]"),
                              ("flexible-extract", (flex[-1][0] or flex[-1][1]) if flex else "[invalid]")):
                prompt = f"<|im_start|>user\nQuestion: {doc['question']}\nAnswer:<|im_end|>\n<|im_start|>assistant\n"
                fh.write(json.dumps({
                    "doc_id": i, "doc": doc, "target": doc["answer"],
                    "arguments": {"gen_args_0": {"arg_0": prompt, "arg_1": {"until": ["Question:"],
                                                                            "do_sample": False}}},
                    "resps": [[resp]], "filtered_resps": [got], "filter": name, "metrics": ["exact_match"],
                    "doc_hash": "0", "prompt_hash": "0", "target_hash": "0",
                    "exact_match": float(got == gold)}) + "\n")
    (folder / f"results_{TS}.json").write_text(json.dumps({
        "results": {"gsm8k": {"alias": "gsm8k", "exact_match,strict-match": 0.7,
                              "exact_match_stderr,strict-match": 0.01, "exact_match,flexible-extract": 0.7,
                              "exact_match_stderr,flexible-extract": 0.01}},
        "group_subtasks": {}, "configs": {"gsm8k": {"task": "gsm8k", "output_type": "generate_until"}},
        "higher_is_better": {"gsm8k": {"exact_match": True}}, "n-samples": {"gsm8k": {"original": n, "effective": n}},
        "config": {"model": "hf", "model_args": "pretrained=Qwen/Qwen3-8B"}, "chat_template": "qwen3 template"}))
    return samples.stat().st_size


def peak(mode: str, folder: Path) -> int:
    out = subprocess.run([sys.executable, "-c", CHILD.format(root=str(ROOT)), mode, str(folder)],
                         capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    if out.returncode != 0:
        raise RuntimeError(f"{mode} on {folder} failed:\n{out.stderr[-3000:]}")
    return int(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    n_small, n_large = 200, 4_000 if args.quick else 20_000
    with tempfile.TemporaryDirectory() as tmp:
        small, large = Path(tmp) / "small", Path(tmp) / "large"
        b_small, b_large = write_run(small, n_small), write_run(large, n_large)
        p_small, p_large, p_keep = peak("cli", small), peak("cli", large), peak("keep", large)
    mb = 2 ** 20
    per_byte = (p_large - p_small) / (b_large - b_small)
    rec = report("report_memory", p_large / mb, p_small / mb, "MB peak RSS",
                 input_small_mb=b_small / mb, input_large_mb=b_large / mb, input_ratio=b_large / b_small,
                 growth_bytes_per_input_byte=per_byte, keep_text_peak_mb=p_keep / mb,
                 keep_text_bytes_per_input_byte=(p_keep - p_small) / (b_large - b_small))
    print(f"report_memory: {b_large / mb:.1f} MB of samples -> peak {p_large / mb:.1f} MB; {b_small / mb:.1f} MB -> "
          f"{p_small / mb:.1f} MB ({p_large / p_small:.2f}x for {b_large / b_small:.0f}x the input; {per_byte:.3f} "
          f"B of peak per B of input); keeping the texts (load_run(keep_text=True)) {p_keep / mb:.1f} MB")
    save({"report_memory": rec})


if __name__ == "__main__":
    main()
