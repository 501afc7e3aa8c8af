"""CPU-time version of bench_masking's plain comparison (less sensitive to the shared machine's load)."""
import sys, time
sys.path.insert(0, '.')
from bench_masking import synthetic, demo, demo_tokenizer, plain
from lm_eval_thinkpack.masking import tokenize_dataset
from tests.chat_fixtures import make_tokenizer
for name, tok, convs, fmt in (("fixture", make_tokenizer("qwen3"), synthetic(2000), "qwen3"), ("demo", demo_tokenizer(), demo(2000), None)):
    ours = lambda: tokenize_dataset(tok, convs, mask="think", fmt=fmt)
    base = lambda: plain(tok, convs)
    ours(); base()
    bo = bb = 9e9
    for _ in range(7):
        s = time.process_time(); ours(); bo = min(bo, time.process_time() - s)
        s = time.process_time(); base(); bb = min(bb, time.process_time() - s)
    print(f"{name:8s} ours={bo:.3f}s cpu plain={bb:.3f}s cpu ratio={bb/bo:.2f}x")
