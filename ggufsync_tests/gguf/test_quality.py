"""Quantization labels rank by the precision they keep."""

from __future__ import annotations

import pytest

from ggufsync_assets.gguf.names import quantization_labels
from ggufsync_assets.gguf.quality import bits_per_weight, quality_table


def test_every_known_label_has_a_rank() -> None:
    assert set(quality_table()) == set(quantization_labels())


@pytest.mark.parametrize(
    ("lower", "higher"),
    [
        ("Q2_K", "Q3_K_M"),
        ("Q3_K_M", "Q4_K_M"),
        ("Q4_K_S", "Q4_K_M"),
        ("Q4_K_M", "Q4_K_L"),
        ("Q4_K_M", "Q5_K_M"),
        ("Q5_K_M", "Q6_K"),
        ("Q6_K", "Q8_0"),
        ("Q8_0", "F16"),
        ("IQ2_XXS", "IQ2_M"),
        ("IQ3_M", "IQ4_XS"),
        ("Q4_K_XL", "UD-Q4_K_XL"),
    ],
)
def test_more_precise_quantizations_rank_higher(lower: str, higher: str) -> None:
    assert bits_per_weight(lower) < bits_per_weight(higher)  # type: ignore[operator]


def test_block_sizes_come_from_the_gguf_package() -> None:
    assert bits_per_weight("Q8_0") == pytest.approx(8.5)
    assert bits_per_weight("F16") == 16.0


def test_unknown_labels_have_no_rank() -> None:
    assert bits_per_weight("Z9_FANCY") is None
