"""Memory needed to run one GGUF weights file: its weights, a KV cache for the context, and an allowance.

People choose a quantisation by whether it fits their GPU or RAM, and the KV cache of a long context can
cost as much as the weights. This is an estimate from header facts, not llama.cpp's allocator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ggufsync_assets.gguf.header import GgufHeader

MIB = 1 << 20
F16_BYTES = 2  # llama.cpp's default cache type
# Compute graph of a 512-token batch, its logits and the backend's own context: a few hundred MiB for
# 7-9B models; the share of the weights stands for scratch that grows with the model's width.
OVERHEAD_FLOOR_BYTES = 512 * MIB
OVERHEAD_PERCENT_OF_WEIGHTS = 5


@dataclass(frozen=True, slots=True)
class MemoryEstimate:
    """Bytes to run a model, by part; `total_bytes` is their sum."""

    weights_bytes: int
    kv_cache_bytes: int
    overhead_bytes: int
    total_bytes: int


def native_context(header: GgufHeader) -> int | None:
    """The context the model was trained for (`context_length`), the natural largest choice."""
    return _positive(header.context_length)


def estimate_memory(
    header: GgufHeader, *, weights_bytes: int, context: int, kv_bytes_per_element: float = F16_BYTES
) -> MemoryEstimate | None:
    """Bytes to run the weights file `header` describes with `context` tokens of KV cache.

    None when the header lacks a fact the KV cache needs: an estimate is never a guess.

    - Weights: `weights_bytes`, the whole logical file with every split part. A mixture of experts
      keeps all its experts resident, so `expert_used_count` lowers nothing.
    - KV cache: layers * context * KV heads * (key length + value length) * `kv_bytes_per_element`.
      KV heads are `head_count_kv`, else `head_count` (no grouped-query attention); key and value lengths
      default to `embedding_length // head_count`, as in llama.cpp.
    - Overhead: OVERHEAD_FLOOR_BYTES plus OVERHEAD_PERCENT_OF_WEIGHTS of the weights, a rough allowance
      for compute buffers that assumes flash attention; without it long contexts need more.

    The cache is an upper bound where a model needs less: per-layer head counts count their largest
    everywhere; sliding-window layers (Gemma 2/3) keep only `sliding_window` tokens, but which layers
    slide is not among these facts, so every layer is counted at full context; latent-attention caches
    (DeepSeek) are compressed below this.
    """
    if weights_bytes < 0:
        raise ValueError(f"weights_bytes must not be negative, got {weights_bytes}")
    if context <= 0:
        raise ValueError(f"context must be a positive number of tokens, got {context}")
    if kv_bytes_per_element <= 0:
        raise ValueError(f"kv_bytes_per_element must be positive, got {kv_bytes_per_element}")
    per_token = kv_bytes_per_token(header, kv_bytes_per_element=kv_bytes_per_element)
    if per_token is None:
        return None
    kv_cache = math.ceil(per_token * context)
    overhead = overhead_bytes(weights_bytes)
    return MemoryEstimate(
        weights_bytes=weights_bytes,
        kv_cache_bytes=kv_cache,
        overhead_bytes=overhead,
        total_bytes=weights_bytes + kv_cache + overhead,
    )


def kv_bytes_per_token(header: GgufHeader, *, kv_bytes_per_element: float = F16_BYTES) -> float | None:
    """KV cache bytes one token of context costs: layers * KV heads * (key + value length) * element
    size; None when the header lacks a fact (see `estimate_memory`). The catalogue stores it per
    header so that SQL can price any context."""
    layers = _positive(header.block_count)
    kv_heads = _positive(header.head_count if header.head_count_kv is None else header.head_count_kv)
    key_length = _head_dimension(header.key_length, header)
    value_length = _head_dimension(header.value_length, header)
    if layers is None or kv_heads is None or key_length is None or value_length is None:
        return None
    return layers * kv_heads * (key_length + value_length) * kv_bytes_per_element


def overhead_bytes(weights_bytes: int) -> int:
    """The allowance for compute buffers: OVERHEAD_FLOOR_BYTES plus OVERHEAD_PERCENT_OF_WEIGHTS."""
    return OVERHEAD_FLOOR_BYTES + weights_bytes * OVERHEAD_PERCENT_OF_WEIGHTS // 100


def _head_dimension(length: int | None, header: GgufHeader) -> int | None:
    """The stated key or value length, else the embedding split evenly across the query heads."""
    if length is not None:
        return _positive(length)
    embedding, heads = _positive(header.embedding_length), _positive(header.head_count)
    return _positive(embedding // heads) if embedding is not None and heads is not None else None


def _positive(value: int | None) -> int | None:
    """Zero or negative counts come from recurrent layers or corrupt headers: no basis for a size."""
    return value if value is not None and value > 0 else None
