"""Local data in place of the Hub for lm-eval's own task YAMLs, as installed: a datasets cache entry per dataset.

``datasets.load_dataset("openai/gsm8k", "main")`` in offline mode reads the newest cached copy of that dataset
and config (``datasets.packaged_modules.cache``). ``cache_dataset`` writes one from local records, so the task
YAML runs unchanged (same ``dataset_path`` / ``dataset_name``) and nothing is fetched.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


def cache_dataset(root: Path, path: str, name: str | None, splits: Mapping[str, Sequence[dict[str, Any]]]) -> Path:
    """Write ``splits`` (split -> records) as the cached copy of Hub dataset ``path`` / config ``name`` under
    ``root`` (use it as ``HF_DATASETS_CACHE``). Returns the entry's folder."""
    from datasets.naming import camelcase_to_snakecase
    from datasets.packaged_modules.json.json import Json

    root = Path(root)
    parts = path.split("/")
    parts[-1] = camelcase_to_snakecase(parts[-1])
    config = name or "default"
    dest = root / "___".join(parts) / config / "0.0.0" / "local"
    if dest.exists():
        shutil.rmtree(dest)
    src_dir = root / "_src" / "___".join(parts) / config
    src_dir.mkdir(parents=True, exist_ok=True)
    files = {}
    for split, rows in splits.items():
        f = src_dir / f"{split}.jsonl"
        f.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        files[split] = str(f)
    build_root = root / "_build"
    builder = Json(cache_dir=str(build_root), dataset_name=parts[-1], config_name=config, data_files=files,
                   hash="local")
    builder.download_and_prepare()
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(builder.cache_dir, dest)
    info_path = dest / "dataset_info.json"
    info = json.loads(info_path.read_text(encoding="utf-8"))
    info["config_name"] = config
    info_path.write_text(json.dumps(info), encoding="utf-8")
    shutil.rmtree(build_root, ignore_errors=True)
    return dest
