"""Header facts from prefixes of real GGUF files written by llama.cpp's own `gguf.GGUFWriter`."""

from __future__ import annotations

import contextlib
import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from gguf import GGUFEndian, GGUFReader, GGUFValueType, GGUFWriter, Keys, LlamaFileType
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ggufsync_assets.gguf.header import (
    FIXED_HEADER_SIZE,
    MAX_LAYER_COUNT,
    MAX_LENGTH,
    GgufHeader,
    GgufHeaderError,
    parse_header,
    verify_magic,
)
from ggufsync_assets.gguf.names import describe
from ggufsync_tests.gguf import Written, write_gguf

BIG_VOCABULARY = 150_000


def tiny_llama(writer: GGUFWriter) -> None:
    writer.add_name("Tiny Llama")
    writer.add_basename("Tiny-Llama")
    writer.add_size_label("8B")
    writer.add_context_length(131072)
    writer.add_block_count(32)
    writer.add_embedding_length(4096)
    writer.add_head_count(32)
    writer.add_head_count_kv(8)
    writer.add_file_type(LlamaFileType.MOSTLY_Q4_K_M)
    writer.add_tokenizer_model("gpt2")
    writer.add_token_list(["<s>", "</s>", "hello", "wörld"])
    writer.add_chat_template("{% for message in messages %}{{ message.content }}{% endfor %}")


def per_layer_heads(writer: GGUFWriter) -> None:
    """OpenELM-style: every layer has its own number of query and key/value heads."""
    writer.add_block_count(4)
    writer.add_head_count([12, 12, 16, 20])
    writer.add_head_count_kv([3, 3, 4, 5])
    writer.add_context_length(2048)


def big_vocabulary(writer: GGUFWriter) -> None:
    writer.add_name("Big Vocabulary")
    writer.add_context_length(32768)
    writer.add_token_list([f"token-{index}" for index in range(BIG_VOCABULARY)])
    writer.add_token_types([1] * BIG_VOCABULARY)
    writer.add_file_type(LlamaFileType.MOSTLY_Q8_0)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Written:
    return write_gguf(tmp_path_factory.mktemp("gguf") / "tiny.gguf", tiny_llama)


@pytest.fixture(scope="module")
def layered(tmp_path_factory: pytest.TempPathFactory) -> Written:
    return write_gguf(tmp_path_factory.mktemp("gguf") / "layered.gguf", per_layer_heads)


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Written:
    return write_gguf(tmp_path_factory.mktemp("gguf") / "big.gguf", big_vocabulary)


def fixed_header(version: int = 3, tensor_count: int = 0, kv_count: int = 1) -> bytes:
    return b"GGUF" + struct.pack("<IQQ", version, tensor_count, kv_count)


def gguf_string(text: bytes) -> bytes:
    return struct.pack("<Q", len(text)) + text


def array_of(key: str, element_type: GGUFValueType, count: int) -> bytes:
    """A key and an array header declaring `count` elements, without the elements."""
    return gguf_string(key.encode()) + struct.pack("<IIQ", GGUFValueType.ARRAY, element_type, count)


LLAMA_HEAD_COUNT = Keys.Attention.HEAD_COUNT.format(arch="llama")


def test_reads_architecture_name_and_size_label(small: Written) -> None:
    header = parse_header(small.data)
    assert (header.architecture, header.name, header.size_label) == ("llama", "Tiny Llama", "8B")


def test_reads_context_length_and_block_count_of_the_architecture(small: Written) -> None:
    header = parse_header(small.data)
    assert (header.context_length, header.block_count) == (131072, 32)


def test_reads_the_basename(small: Written) -> None:
    assert parse_header(small.data).basename == "Tiny-Llama"


def test_reads_embedding_length_and_head_counts(small: Written) -> None:
    header = parse_header(small.data)
    assert (header.embedding_length, header.head_count, header.head_count_kv) == (4096, 32, 8)


def test_key_and_value_lengths_are_none_when_the_head_dimension_is_implied(small: Written) -> None:
    header = parse_header(small.data)
    assert (header.key_length, header.value_length) == (None, None)


def test_reads_key_and_value_lengths_and_the_sliding_window(tmp_path: Path) -> None:
    def gemma2(writer: GGUFWriter) -> None:
        writer.add_key_length(256)
        writer.add_value_length(128)
        writer.add_sliding_window(4096)

    header = parse_header(write_gguf(tmp_path / "gemma.gguf", gemma2, arch="gemma2").data)
    assert (header.key_length, header.value_length, header.sliding_window) == (256, 128, 4096)


def test_reads_expert_counts_of_a_mixture_of_experts(tmp_path: Path) -> None:
    def mixtral(writer: GGUFWriter) -> None:
        writer.add_expert_count(8)
        writer.add_expert_used_count(2)

    header = parse_header(write_gguf(tmp_path / "moe.gguf", mixtral).data)
    assert (header.expert_count, header.expert_used_count) == (8, 2)


def test_a_dense_model_has_no_expert_counts_and_no_sliding_window(small: Written) -> None:
    header = parse_header(small.data)
    assert (header.expert_count, header.expert_used_count, header.sliding_window) == (None, None, None)


def test_reads_the_tokenizer_model_and_counts_the_tokens(small: Written) -> None:
    header = parse_header(small.data)
    assert (header.tokenizer_model, header.vocab_size) == ("gpt2", 4)


def test_a_chat_template_is_noticed(small: Written) -> None:
    assert parse_header(small.data).has_chat_template


def test_per_layer_head_counts_keep_the_largest(layered: Written) -> None:
    header = parse_header(layered.data)
    assert (header.block_count, header.head_count, header.head_count_kv) == (4, 20, 5)


def test_keys_after_per_layer_head_counts_are_still_read(layered: Written) -> None:
    assert parse_header(layered.data).context_length == 2048


def test_kv_heads_of_zero_in_recurrent_layers_keep_those_of_the_attention_layers(tmp_path: Path) -> None:
    def jamba(writer: GGUFWriter) -> None:
        writer.add_head_count(32)
        writer.add_head_count_kv([0, 0, 0, 8, 0, 0, 0, 8])

    header = parse_header(write_gguf(tmp_path / "hybrid.gguf", jamba, arch="jamba").data)
    assert (header.head_count, header.head_count_kv) == (32, 8)


@pytest.mark.parametrize(
    "element_type", [GGUFValueType.UINT8, GGUFValueType.INT16, GGUFValueType.UINT32, GGUFValueType.INT64]
)
def test_per_layer_head_counts_of_any_integer_width(tmp_path: Path, element_type: GGUFValueType) -> None:
    def heads(writer: GGUFWriter) -> None:
        writer.add_key_value(LLAMA_HEAD_COUNT, [8, 16, 4], GGUFValueType.ARRAY, sub_type=element_type)

    assert parse_header(write_gguf(tmp_path / "m.gguf", heads).data).head_count == 16


def test_a_per_layer_array_of_floats_is_not_a_head_count(tmp_path: Path) -> None:
    def heads(writer: GGUFWriter) -> None:
        writer.add_array(LLAMA_HEAD_COUNT, [8.0, 16.0])
        writer.add_context_length(4096)

    header = parse_header(write_gguf(tmp_path / "m.gguf", heads).data)
    assert (header.head_count, header.context_length) == (None, 4096)


def test_an_empty_per_layer_array_is_no_head_count() -> None:
    data = fixed_header() + array_of(LLAMA_HEAD_COUNT, GGUFValueType.UINT32, 0)
    header = parse_header(data)
    assert header.header_complete
    assert header.head_count is None


def test_counts_and_version_agree_with_gguf_reader(small: Written, tmp_path: Path) -> None:
    (tmp_path / "copy.gguf").write_bytes(small.data)
    reader = GGUFReader(tmp_path / "copy.gguf")
    header = parse_header(small.data)
    assert header.version == reader.fields["GGUF.version"].parts[0][0]
    assert header.tensor_count == len(reader.tensors) == 2
    assert header.kv_count == reader.fields["GGUF.kv_count"].parts[0][0]


def test_the_whole_file_gives_a_complete_header(small: Written) -> None:
    header = parse_header(small.data)
    assert header.header_complete
    assert header.bytes_needed is None


@pytest.mark.parametrize(
    ("file_type", "label"),
    [
        (LlamaFileType.MOSTLY_Q4_K_M, "Q4_K_M"),
        (LlamaFileType.ALL_F32, "F32"),
        (LlamaFileType.MOSTLY_BF16, "BF16"),
        (LlamaFileType.MOSTLY_IQ2_XXS, "IQ2_XXS"),
    ],
)
def test_file_type_becomes_the_label_used_in_file_names(
    tmp_path: Path, file_type: LlamaFileType, label: str
) -> None:
    header = parse_header(write_gguf(tmp_path / "m.gguf", lambda w: w.add_file_type(file_type)).data)
    assert (header.file_type, header.quantization) == (int(file_type), label)


def test_an_unknown_file_type_is_kept_without_a_label(tmp_path: Path) -> None:
    header = parse_header(write_gguf(tmp_path / "m.gguf", lambda w: w.add_file_type(9999)).data)
    assert (header.file_type, header.quantization) == (9999, None)


def test_absent_keys_are_none(tmp_path: Path) -> None:
    header = parse_header(write_gguf(tmp_path / "m.gguf").data)
    assert header.architecture == "llama"
    assert (header.name, header.context_length, header.file_type, header.quantization) == (None,) * 4
    assert (header.split_no, header.split_count, header.split_tensors_count) == (None, None, None)
    assert (header.basename, header.embedding_length, header.head_count, header.head_count_kv) == (None,) * 4
    assert (header.tokenizer_model, header.vocab_size, header.has_chat_template) == (None, None, False)


def test_keys_of_another_architecture_are_not_taken(tmp_path: Path) -> None:
    data = write_gguf(tmp_path / "m.gguf", lambda w: w.add_uint32("qwen2.context_length", 4096)).data
    assert parse_header(data).context_length is None


def test_a_projector_has_its_own_architecture(tmp_path: Path) -> None:
    header = parse_header(write_gguf(tmp_path / "mmproj.gguf", arch="clip").data)
    assert (header.architecture, header.context_length) == ("clip", None)


def test_split_keys_of_sharded_files(tmp_path: Path) -> None:
    writer = GGUFWriter(tmp_path / "Model-Q8_0.gguf", "llama", split_max_tensors=1)
    writer.add_tensor("token_embd.weight", np.ones((4, 8), dtype=np.float32))
    writer.add_tensor("output_norm.weight", np.ones(8, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    shards = sorted(tmp_path.glob("*.gguf"))
    headers = [parse_header(shard.read_bytes()) for shard in shards]
    assert [(h.split_no, h.split_count, h.split_tensors_count, h.tensor_count) for h in headers] == [
        (0, 2, 2, 1),
        (1, 2, 2, 1),
    ]
    assert [describe(shard.name).split_index for shard in shards] == [1, 2]


@pytest.mark.parametrize("configure", [tiny_llama, per_layer_heads])
def test_big_endian_files_read_like_little_endian(
    tmp_path: Path, configure: Callable[[GGUFWriter], None]
) -> None:
    little = parse_header(write_gguf(tmp_path / "le.gguf", configure).data)
    big = parse_header(write_gguf(tmp_path / "be.gguf", configure, endianess=GGUFEndian.BIG).data)
    assert big == little


def test_a_header_of_more_than_a_mebibyte_is_read_completely(big: Written) -> None:
    assert big.kv_end > 1 << 20
    header = parse_header(big.data)
    assert header.header_complete
    assert (header.name, header.context_length, header.quantization) == ("Big Vocabulary", 32768, "Q8_0")


def test_exactly_the_key_value_section_is_enough(big: Written) -> None:
    assert parse_header(big.data[: big.kv_end]).header_complete


def test_one_byte_short_of_the_key_value_section_is_incomplete(big: Written) -> None:
    header = parse_header(big.data[: big.kv_end - 1])
    assert not header.header_complete
    assert header.bytes_needed == big.kv_end


def test_a_prefix_ending_inside_the_vocabulary_keeps_what_came_before(big: Written) -> None:
    header = parse_header(big.data[:65536])
    assert not header.header_complete
    assert (header.architecture, header.name, header.context_length) == ("llama", "Big Vocabulary", 32768)
    assert header.quantization is None  # general.file_type comes after the arrays


def test_a_prefix_ending_inside_the_vocabulary_already_knows_its_size(big: Written) -> None:
    assert parse_header(big.data[:65536]).vocab_size == BIG_VOCABULARY


def test_a_prefix_ending_before_the_chat_template_has_none_yet(small: Written) -> None:
    cut = small.data.index(Keys.Tokenizer.CHAT_TEMPLATE.encode())
    header = parse_header(small.data[:cut])
    assert not header.has_chat_template
    assert header.bytes_needed is not None
    assert header.bytes_needed > cut


def test_a_prefix_ending_inside_per_layer_head_counts_asks_for_the_whole_array() -> None:
    data = fixed_header() + array_of(LLAMA_HEAD_COUNT, GGUFValueType.UINT32, 32) + struct.pack("<3I", 8, 8, 8)
    header = parse_header(data)
    assert (header.header_complete, header.head_count) == (False, None)
    assert header.bytes_needed == len(data) - 3 * 4 + 32 * 4


def test_bytes_needed_inside_the_vocabulary_is_a_useful_lower_bound(big: Written) -> None:
    header = parse_header(big.data[:65536])
    assert header.bytes_needed is not None
    # At most 65536 // 15 tokens ("token-0" and up) fit in the prefix; each one left costs 8 bytes or more.
    assert 65536 + 8 * (BIG_VOCABULARY - 65536 // 15) < header.bytes_needed <= big.kv_end


def test_bytes_likely_inside_the_vocabulary_prices_the_rest_at_the_mean_token_size(big: Written) -> None:
    header = parse_header(big.data[:65536])
    assert header.bytes_needed is not None
    assert header.bytes_likely is not None
    # Tokens are "token-0".."token-149999": 8 + 7..12 bytes each; the ones read so far are the shortest.
    tokens_end = big.kv_end - (len(Keys.Tokenizer.TOKEN_TYPE) + 8 + 4 + 4 + 8 + 4 * BIG_VOCABULARY)
    assert header.bytes_needed < header.bytes_likely
    assert 0.8 * tokens_end < header.bytes_likely <= big.kv_end


def test_a_complete_header_has_no_bytes_likely(small: Written) -> None:
    assert parse_header(small.data).bytes_likely is None


def test_following_bytes_needed_always_progresses_to_a_complete_header(big: Written) -> None:
    fetched = FIXED_HEADER_SIZE
    while not (header := parse_header(big.data[:fetched])).header_complete:
        assert header.bytes_needed is not None
        assert fetched < header.bytes_needed <= big.kv_end
        fetched = header.bytes_needed
    assert header.name == "Big Vocabulary"


def test_every_truncation_is_incomplete_with_a_lower_bound(small: Written) -> None:
    for length in range(small.kv_end):
        header = parse_header(small.data[:length])
        assert not header.header_complete, length
        assert header.bytes_needed is not None
        assert length < header.bytes_needed <= small.kv_end, length


def test_every_truncation_of_per_layer_head_counts_is_incomplete_with_a_lower_bound(
    layered: Written,
) -> None:
    for length in range(layered.kv_end):
        header = parse_header(layered.data[:length])
        assert not header.header_complete, length
        assert header.bytes_needed is not None
        assert length < header.bytes_needed <= layered.kv_end, length


def test_a_prefix_shorter_than_the_fixed_header_asks_for_the_fixed_header() -> None:
    header = parse_header(b"GGUF\x03\x00")
    assert (header.version, header.header_complete, header.bytes_needed) == (None, False, FIXED_HEADER_SIZE)


def test_a_string_longer_than_the_prefix_is_incomplete_not_an_error() -> None:
    header = parse_header(fixed_header() + struct.pack("<Q", 1000) + b"general.")
    assert (header.header_complete, header.bytes_needed) == (False, FIXED_HEADER_SIZE + 8 + 1000)


def test_invalid_utf8_in_strings_is_replaced_not_fatal() -> None:
    data = (
        fixed_header()
        + gguf_string(Keys.General.NAME.encode())
        + struct.pack("<I", GGUFValueType.STRING)
        + gguf_string(b"caf\xe9")
    )
    assert parse_header(data).name == "caf\ufffd"


def test_bad_magic_is_an_error() -> None:
    with pytest.raises(GgufHeaderError, match=r"bad magic .* offset 0"):
        parse_header(b"GGML" + bytes(40))


def test_html_instead_of_a_file_is_an_error() -> None:
    with pytest.raises(GgufHeaderError, match="bad magic"):
        parse_header(b"<!DOCTYPE html><html>Not found</html>")


@pytest.mark.parametrize("version", [0, 1, 4])
def test_unsupported_versions_are_errors(version: int) -> None:
    with pytest.raises(GgufHeaderError, match=rf"unsupported GGUF version {version} at offset 4"):
        parse_header(fixed_header(version=version))


def test_an_absurd_string_length_is_an_error_naming_its_offset() -> None:
    with pytest.raises(GgufHeaderError, match=r"key length 1099511627776 at offset 24"):
        parse_header(fixed_header() + struct.pack("<Q", 1 << 40))


def test_a_negative_length_is_an_error() -> None:
    with pytest.raises(GgufHeaderError, match="at offset 24"):
        parse_header(fixed_header() + struct.pack("<q", -1))


def test_an_absurd_key_value_count_is_an_error() -> None:
    with pytest.raises(GgufHeaderError, match=r"key/value count \d+ at offset 16"):
        parse_header(fixed_header(kv_count=1 << 62))


def test_an_absurd_tensor_count_is_an_error() -> None:
    with pytest.raises(GgufHeaderError, match=r"tensor count \d+ at offset 8"):
        parse_header(fixed_header(tensor_count=1 << 40))


def test_an_absurd_array_is_an_error() -> None:
    data = (
        fixed_header()
        + gguf_string(b"k")
        + struct.pack("<IIQ", GGUFValueType.ARRAY, GGUFValueType.UINT64, 1 << 40)
    )
    with pytest.raises(GgufHeaderError, match=r"array of 1099511627776 elements at offset 37"):
        parse_header(data)


def test_a_per_layer_array_longer_than_any_model_is_an_error_even_with_its_bytes_present() -> None:
    count = MAX_LAYER_COUNT + 1
    data = fixed_header() + array_of(LLAMA_HEAD_COUNT, GGUFValueType.UINT8, count) + bytes(count)
    with pytest.raises(GgufHeaderError, match=rf"per-layer array of {count} elements at offset 62"):
        parse_header(data)


def test_a_per_layer_array_longer_than_any_model_is_an_error_not_a_request_for_a_gibibyte() -> None:
    count = MAX_LENGTH // 4  # as many 4-byte elements as the general array limit lets through
    with pytest.raises(GgufHeaderError, match="per-layer array"):
        parse_header(fixed_header() + array_of(LLAMA_HEAD_COUNT, GGUFValueType.UINT32, count))


def test_an_absurd_per_layer_array_is_an_error() -> None:
    with pytest.raises(GgufHeaderError, match=r"array of 1099511627776 elements at offset 62"):
        parse_header(fixed_header() + array_of(LLAMA_HEAD_COUNT, GGUFValueType.INT64, 1 << 40))


def test_an_absurd_token_count_is_an_error() -> None:
    with pytest.raises(GgufHeaderError, match=r"array of 1099511627776 elements"):
        parse_header(fixed_header() + array_of(Keys.Tokenizer.LIST, GGUFValueType.STRING, 1 << 40))


def test_an_unknown_value_type_is_an_error() -> None:
    with pytest.raises(GgufHeaderError, match="unknown value type 77 at offset 33"):
        parse_header(fixed_header() + gguf_string(b"k") + struct.pack("<I", 77))


def test_nested_arrays_are_errors() -> None:
    data = (
        fixed_header() + gguf_string(b"k") + struct.pack("<IIQ", GGUFValueType.ARRAY, GGUFValueType.ARRAY, 1)
    )
    with pytest.raises(GgufHeaderError, match="nested array"):
        parse_header(data)


def test_verify_magic_accepts_gguf_files(small: Written) -> None:
    assert verify_magic(small.data)


@pytest.mark.parametrize("data", [b"", b"GGU", b"GGML\x03\x00\x00\x00", b"PK\x03\x04"])
def test_verify_magic_rejects_everything_else(data: bytes) -> None:
    assert not verify_magic(data)


def parses_or_rejects(data: bytes) -> None:
    """Only a header or a GgufHeaderError; an incomplete header always asks for more than it got."""
    with contextlib.suppress(GgufHeaderError):
        header = parse_header(data)
        assert isinstance(header, GgufHeader)
        assert header.header_complete or (header.bytes_needed or 0) > len(data)


@given(st.binary(max_size=512))
def test_random_bytes_give_a_header_or_a_header_error(data: bytes) -> None:
    parses_or_rejects(data)


@given(st.binary(max_size=512))
def test_random_bytes_after_a_valid_fixed_header_give_a_header_or_a_header_error(data: bytes) -> None:
    parses_or_rejects(fixed_header(kv_count=4) + data)


@given(st.binary(max_size=512))
def test_random_bytes_after_a_head_count_key_give_a_header_or_a_header_error(data: bytes) -> None:
    parses_or_rejects(fixed_header(kv_count=2) + gguf_string(LLAMA_HEAD_COUNT.encode()) + data)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(length=st.integers(min_value=0), position=st.integers(min_value=0), byte=st.integers(0, 255))
def test_truncated_and_corrupted_headers_give_a_header_or_a_header_error(
    small: Written, length: int, position: int, byte: int
) -> None:
    data = bytearray(small.data[: length % (small.kv_end + 64)])
    if data:
        data[position % len(data)] = byte
    parses_or_rejects(bytes(data))


def test_a_walk_told_to_stop_at_the_tokenizer_stops_at_its_token_list(small: Written) -> None:
    header = parse_header(small.data, stop_at_tokenizer=True)
    assert header.header_complete
    assert header.stopped_at == small.data.index(Keys.Tokenizer.LIST.encode()) - 8  # its key's length prefix
    assert header.kv_end is None


def test_a_walk_stopped_at_the_tokenizer_knows_every_fact_before_it_and_the_vocabulary_size(
    small: Written,
) -> None:
    whole, stopped = parse_header(small.data), parse_header(small.data, stop_at_tokenizer=True)
    facts = ("architecture", "context_length", "block_count", "embedding_length", "head_count_kv")
    assert [getattr(stopped, name) for name in facts] == [getattr(whole, name) for name in facts]
    assert (stopped.quantization, stopped.tokenizer_model, stopped.vocab_size) == ("Q4_K_M", "gpt2", 4)


def test_a_walk_stopped_at_the_tokenizer_does_not_know_whether_a_chat_template_follows(
    small: Written,
) -> None:
    assert parse_header(small.data, stop_at_tokenizer=True).has_chat_template is None


def test_a_prefix_up_to_the_token_lists_array_header_is_enough_to_stop(small: Written) -> None:
    tokens_key = small.data.index(Keys.Tokenizer.LIST.encode())
    array_header_end = tokens_key + len(Keys.Tokenizer.LIST) + 4 + 4 + 8  # type, element type, count
    assert parse_header(small.data[:array_header_end], stop_at_tokenizer=True).header_complete


def test_a_walk_does_not_stop_at_a_tokenizer_that_comes_before_the_models_facts(big: Written) -> None:
    header = parse_header(big.data, stop_at_tokenizer=True)
    assert header.stopped_at is None
    assert header.kv_end == big.kv_end
    assert header.quantization == "Q8_0"  # general.file_type follows the arrays here
