"""How much precision a quantization keeps, as approximate bits per weight.

Used to rank a repo's files ("the best file under 8 GB"). The base figure comes from the gguf
package's block sizes (GGML_QUANT_SIZES); llama.cpp's file types are mixes named after their main
tensor type (Q4_K_M is mostly Q4_K with some tensors kept larger), so the mix suffix adds a little.
"""

from __future__ import annotations

from gguf import GGML_QUANT_SIZES

from ggufsync_assets.gguf.names import UNSLOTH_DYNAMIC_PREFIX, quantization_labels

_TYPE_BITS = {member.name: size * 8 / block for member, (block, size) in GGML_QUANT_SIZES.items()}
# Extra precision of a mix over its main tensor type: the llama.cpp S/M/L mixes keep more tensors
# at higher precision in that order; community _L/_XL mixes keep embeddings and output at Q8_0.
_MIX_BONUS = {"XXS": 0.0, "XS": 0.0, "S": 0.0, "NL": 0.0, "M": 0.3, "L": 0.5, "XL": 0.6, "MOE": 0.0}
_DYNAMIC_BONUS = 0.05


def bits_per_weight(label: str) -> float | None:
    """Approximate bits per weight of a quantization label; None for labels it cannot place."""
    name = label.removeprefix(UNSLOTH_DYNAMIC_PREFIX)
    bonus = _DYNAMIC_BONUS if label.startswith(UNSLOTH_DYNAMIC_PREFIX) else 0.0
    if name in _TYPE_BITS:
        return _TYPE_BITS[name] + bonus
    parts = name.split("_")
    for cut in range(len(parts) - 1, 0, -1):
        base, suffix = "_".join(parts[:cut]), parts[cut]
        for candidate in (base, f"{base}_S"):  # IQ3_M is a mix built on IQ3_S
            if candidate in _TYPE_BITS:
                return _TYPE_BITS[candidate] + _MIX_BONUS.get(suffix, 0.0) + bonus
    return None


def quality_table() -> dict[str, float]:
    """Every known label with its bits per weight, for the catalogue's ranking table."""
    return {label: bits for label in quantization_labels() if (bits := bits_per_weight(label)) is not None}
