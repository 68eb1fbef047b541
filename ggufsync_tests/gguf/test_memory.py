"""Memory to run a model, checked against figures worked out by hand for three real architectures.

Headers are written with `gguf.GGUFWriter` and read back with `parse_header`, so the estimate is checked
on exactly the facts the catalogue gets. Weights sizes are those of typical Q4_K_M quantisations.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from gguf import GGUFWriter

from ggufsync_assets.gguf.header import GgufHeader, parse_header
from ggufsync_assets.gguf.memory import MemoryEstimate, estimate_memory, native_context
from ggufsync_tests.gguf import write_gguf

MIB = 1 << 20

LLAMA_3_8B_WEIGHTS = 4_920_000_000
GEMMA_2_9B_WEIGHTS = 5_760_000_000
MIXTRAL_8X7B_WEIGHTS = 26_440_000_000


def llama_3_8b(writer: GGUFWriter) -> None:
    """Grouped-query attention: 32 query heads share 8 KV heads; head dim 4096 / 32 = 128."""
    writer.add_context_length(8192)
    writer.add_block_count(32)
    writer.add_embedding_length(4096)
    writer.add_head_count(32)
    writer.add_head_count_kv(8)


def gemma_2_9b(writer: GGUFWriter) -> None:
    """Head dim 256 stated outright: 3584 / 16 = 224 would be wrong. Alternate layers slide over 4096."""
    writer.add_context_length(8192)
    writer.add_block_count(42)
    writer.add_embedding_length(3584)
    writer.add_head_count(16)
    writer.add_head_count_kv(8)
    writer.add_key_length(256)
    writer.add_value_length(256)
    writer.add_sliding_window(4096)


def mixtral_8x7b(writer: GGUFWriter) -> None:
    """Attention like Mistral 7B; 8 experts per layer of which 2 run per token."""
    writer.add_context_length(32768)
    writer.add_block_count(32)
    writer.add_embedding_length(4096)
    writer.add_head_count(32)
    writer.add_head_count_kv(8)
    writer.add_expert_count(8)
    writer.add_expert_used_count(2)


@pytest.fixture(scope="module")
def llama(tmp_path_factory: pytest.TempPathFactory) -> GgufHeader:
    return parse_header(write_gguf(tmp_path_factory.mktemp("gguf") / "llama.gguf", llama_3_8b).data)


@pytest.fixture(scope="module")
def gemma(tmp_path_factory: pytest.TempPathFactory) -> GgufHeader:
    path = tmp_path_factory.mktemp("gguf") / "gemma.gguf"
    return parse_header(write_gguf(path, gemma_2_9b, arch="gemma2").data)


@pytest.fixture(scope="module")
def mixtral(tmp_path_factory: pytest.TempPathFactory) -> GgufHeader:
    return parse_header(write_gguf(tmp_path_factory.mktemp("gguf") / "mixtral.gguf", mixtral_8x7b).data)


def kv_cache(header: GgufHeader, context: int | None) -> int:
    assert context is not None
    estimate = estimate_memory(header, weights_bytes=0, context=context)
    assert estimate is not None
    return estimate.kv_cache_bytes


# Llama 3 8B: 32 layers * 8 KV heads * (128 + 128) * 2 bytes = 131,072 bytes (128 KiB) a token.
@pytest.mark.parametrize(
    ("context", "expected"),
    [
        (4096, 536_870_912),  # 131,072 * 4096 = 512 MiB
        (8192, 1_073_741_824),  # 131,072 * 8192 = 1 GiB
        (32768, 4_294_967_296),  # 131,072 * 32768 = 4 GiB
    ],
)
def test_llama_3_8b_kv_cache(llama: GgufHeader, context: int, expected: int) -> None:
    assert kv_cache(llama, context) == expected


def test_llama_3_8b_kv_cache_at_its_native_context(llama: GgufHeader) -> None:
    native = native_context(llama)
    assert native == 8192
    assert kv_cache(llama, native) == 1_073_741_824  # 131,072 * 8192


def test_llama_3_8b_at_4096_tokens(llama: GgufHeader) -> None:
    # weights   4,920,000,000
    # KV cache    536,870,912  (32 * 4096 * 8 * (128 + 128) * 2)
    # overhead    782,870,912  (512 MiB = 536,870,912, + 5% of 4,920,000,000 = 246,000,000)
    # total     6,239,741,824
    assert estimate_memory(llama, weights_bytes=LLAMA_3_8B_WEIGHTS, context=4096) == MemoryEstimate(
        weights_bytes=4_920_000_000,
        kv_cache_bytes=536_870_912,
        overhead_bytes=782_870_912,
        total_bytes=6_239_741_824,
    )


# Gemma 2 9B: 42 layers * 8 KV heads * (256 + 256) * 2 bytes = 344,064 bytes (336 KiB) a token.
@pytest.mark.parametrize(
    ("context", "expected"),
    [
        (4096, 1_409_286_144),  # 344,064 * 4096 = 1344 MiB
        (8192, 2_818_572_288),  # 344,064 * 8192 = 2688 MiB
        (32768, 11_274_289_152),  # 344,064 * 32768 = 10752 MiB
    ],
)
def test_gemma_2_9b_kv_cache(gemma: GgufHeader, context: int, expected: int) -> None:
    assert kv_cache(gemma, context) == expected


def test_gemma_2_9b_kv_cache_at_its_native_context(gemma: GgufHeader) -> None:
    native = native_context(gemma)
    assert native == 8192
    assert kv_cache(gemma, native) == 2_818_572_288  # 344,064 * 8192


def test_gemma_2_9b_at_4096_tokens(gemma: GgufHeader) -> None:
    # weights   5,760,000,000
    # KV cache  1,409,286,144  (42 * 4096 * 8 * (256 + 256) * 2)
    # overhead    824,870,912  (536,870,912 + 5% of 5,760,000,000 = 288,000,000)
    # total     7,994,157,056
    assert estimate_memory(gemma, weights_bytes=GEMMA_2_9B_WEIGHTS, context=4096) == MemoryEstimate(
        weights_bytes=5_760_000_000,
        kv_cache_bytes=1_409_286_144,
        overhead_bytes=824_870_912,
        total_bytes=7_994_157_056,
    )


def test_stated_key_and_value_lengths_win_over_embedding_per_head(gemma: GgufHeader) -> None:
    # 3584 / 16 = 224 would give 42 * 4096 * 8 * (224 + 224) * 2 = 1,233,125,376.
    assert kv_cache(gemma, 4096) == 1_409_286_144


def test_sliding_window_layers_are_counted_at_the_full_context(gemma: GgufHeader) -> None:
    # Beyond the 4096-token window every one of the 42 layers still counts: 344,064 * 32768.
    assert gemma.sliding_window == 4096
    assert kv_cache(gemma, 32768) == 11_274_289_152


# Mixtral 8x7B: 32 layers * 8 KV heads * (128 + 128) * 2 bytes = 131,072 bytes a token, like Llama 3 8B.
@pytest.mark.parametrize(
    ("context", "expected"),
    [
        (4096, 536_870_912),  # 131,072 * 4096 = 512 MiB
        (8192, 1_073_741_824),  # 131,072 * 8192 = 1 GiB
        (32768, 4_294_967_296),  # 131,072 * 32768 = 4 GiB
    ],
)
def test_mixtral_8x7b_kv_cache(mixtral: GgufHeader, context: int, expected: int) -> None:
    assert kv_cache(mixtral, context) == expected


def test_mixtral_8x7b_kv_cache_at_its_native_context(mixtral: GgufHeader) -> None:
    native = native_context(mixtral)
    assert native == 32768
    assert kv_cache(mixtral, native) == 4_294_967_296  # 131,072 * 32768


def test_mixtral_8x7b_at_4096_tokens(mixtral: GgufHeader) -> None:
    # weights   26,440,000,000  (all 8 experts stay resident, though 2 run per token)
    # KV cache     536,870,912  (32 * 4096 * 8 * (128 + 128) * 2)
    # overhead   1,858,870,912  (536,870,912 + 5% of 26,440,000,000 = 1,322,000,000)
    # total     28,835,741,824
    assert estimate_memory(mixtral, weights_bytes=MIXTRAL_8X7B_WEIGHTS, context=4096) == MemoryEstimate(
        weights_bytes=26_440_000_000,
        kv_cache_bytes=536_870_912,
        overhead_bytes=1_858_870_912,
        total_bytes=28_835_741_824,
    )


def test_experts_used_per_token_do_not_shrink_the_estimate(mixtral: GgufHeader) -> None:
    dense = replace(mixtral, expert_count=None, expert_used_count=None)
    assert estimate_memory(mixtral, weights_bytes=MIXTRAL_8X7B_WEIGHTS, context=4096) == estimate_memory(
        dense, weights_bytes=MIXTRAL_8X7B_WEIGHTS, context=4096
    )


def test_without_kv_head_count_every_query_head_keeps_keys_and_values(llama: GgufHeader) -> None:
    # Llama 2 7B style: 32 layers * 4096 * 32 heads * (128 + 128) * 2 = 2 GiB.
    assert kv_cache(replace(llama, head_count_kv=None), 4096) == 2_147_483_648


def test_keys_and_values_of_different_lengths_each_count_their_own(llama: GgufHeader) -> None:
    # 32 layers * 4096 * 8 KV heads * (192 + 128) * 2 = 671,088,640.
    assert kv_cache(replace(llama, key_length=192, value_length=128), 4096) == 671_088_640


def test_per_layer_head_counts_give_an_upper_bound(tmp_path: Path) -> None:
    def openelm(writer: GGUFWriter) -> None:
        writer.add_block_count(4)
        writer.add_head_count([12, 12, 16, 20])
        writer.add_head_count_kv([3, 3, 4, 5])
        writer.add_key_length(64)
        writer.add_value_length(64)

    header = parse_header(write_gguf(tmp_path / "openelm.gguf", openelm, arch="openelm").data)
    # Every layer counted with the largest, 5 KV heads: 4 * 1024 * 5 * (64 + 64) * 2 = 5,242,880;
    # layer by layer it would be (3 + 3 + 4 + 5) * 1024 * (64 + 64) * 2 = 3,932,160.
    assert kv_cache(header, 1024) == 5_242_880


def test_a_quantised_cache_costs_its_bytes_per_element(llama: GgufHeader) -> None:
    # q8_0 stores 32 elements in 34 bytes: 32 * 4096 * 8 * (128 + 128) * 34 / 32 = 285,212,672.
    estimate = estimate_memory(llama, weights_bytes=0, context=4096, kv_bytes_per_element=34 / 32)
    assert estimate is not None
    assert estimate.kv_cache_bytes == 285_212_672


def test_the_overhead_has_a_floor_for_the_smallest_models(llama: GgufHeader) -> None:
    estimate = estimate_memory(llama, weights_bytes=0, context=1)
    assert estimate is not None
    assert estimate.overhead_bytes == 512 * MIB


@pytest.mark.parametrize(
    "missing",
    [
        {"block_count": None},
        {"head_count": None, "head_count_kv": None},
        {"head_count": None},  # head dim 4096 / ? is unknown
        {"embedding_length": None},  # head dim ? / 32 is unknown
    ],
)
def test_missing_facts_give_no_estimate(llama: GgufHeader, missing: dict[str, None]) -> None:
    assert estimate_memory(replace(llama, **missing), weights_bytes=LLAMA_3_8B_WEIGHTS, context=4096) is None


@pytest.mark.parametrize(
    "zero",
    [
        {"head_count": 0, "head_count_kv": 0},  # a recurrent model keeps a state, not a KV cache
        {"block_count": 0},
        {"key_length": 0},
    ],
)
def test_zero_counts_give_no_estimate(llama: GgufHeader, zero: dict[str, int]) -> None:
    assert estimate_memory(replace(llama, **zero), weights_bytes=LLAMA_3_8B_WEIGHTS, context=4096) is None


def test_a_head_dimension_needs_only_the_stated_lengths(gemma: GgufHeader) -> None:
    bare = replace(gemma, embedding_length=None, head_count=None)
    assert kv_cache(bare, 4096) == 1_409_286_144


def test_a_header_cut_before_the_attention_facts_gives_no_estimate(tmp_path: Path) -> None:
    written = write_gguf(tmp_path / "m.gguf", llama_3_8b)
    header = parse_header(written.data[:40])
    assert not header.header_complete
    assert estimate_memory(header, weights_bytes=LLAMA_3_8B_WEIGHTS, context=4096) is None


def test_no_native_context_without_a_context_length(llama: GgufHeader) -> None:
    assert native_context(replace(llama, context_length=None)) is None


@pytest.mark.parametrize(
    ("weights_bytes", "context", "kv_bytes_per_element"), [(-1, 4096, 2), (0, 0, 2), (0, 4096, 0)]
)
def test_impossible_arguments_are_errors(
    llama: GgufHeader, weights_bytes: int, context: int, kv_bytes_per_element: float
) -> None:
    with pytest.raises(ValueError, match="must"):
        estimate_memory(
            llama, weights_bytes=weights_bytes, context=context, kv_bytes_per_element=kv_bytes_per_element
        )
