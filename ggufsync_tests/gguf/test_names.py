"""What file names in GGUF repositories mean, as the quantizers on the Hub actually write them."""

from __future__ import annotations

import pytest
from gguf import LlamaFileType
from gguf.gguf_writer import SHARD_NAME_FORMAT
from hypothesis import given
from hypothesis import strategies as st

from ggufsync_assets.gguf.names import (
    describe,
    is_gguf_path,
    label_for_file_type,
    quantization_labels,
)

LLAMA_CPP_LABELS = {
    "F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K_S", "Q3_K_M", "Q3_K_L",
    "Q4_K_S", "Q4_K_M", "Q5_K_S", "Q5_K_M", "Q6_K", "IQ1_S", "IQ1_M", "IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ2_M",
    "IQ3_XXS", "IQ3_XS", "IQ3_S", "IQ3_M", "IQ4_NL", "IQ4_XS", "TQ1_0", "TQ2_0", "MXFP4",
}  # fmt: skip
COMMUNITY_LABELS = {
    "Q4_K_L",
    "Q3_K_XL",
    "Q5_K_L",
    "Q6_K_L",
    "Q8_K_XL",
    "UD-Q4_K_XL",
    "UD-IQ2_XXS",
    "Q4_0_4_4",
}

REAL_WORLD_NAMES = [
    # bartowski
    ("Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf", "Q4_K_M"),
    ("Meta-Llama-3.1-8B-Instruct-Q6_K_L.gguf", "Q6_K_L"),
    ("Meta-Llama-3.1-8B-Instruct-Q3_K_XL.gguf", "Q3_K_XL"),
    ("Meta-Llama-3.1-8B-Instruct-IQ4_XS.gguf", "IQ4_XS"),
    ("Meta-Llama-3.1-8B-Instruct-Q4_0_4_4.gguf", "Q4_0_4_4"),
    ("Meta-Llama-3.1-8B-Instruct-f32.gguf", "F32"),
    ("mistralai_Mistral-Small-3.1-24B-Instruct-2503-IQ2_XXS.gguf", "IQ2_XXS"),
    ("Meta-Llama-3.1-70B-Instruct-Q8_0/Meta-Llama-3.1-70B-Instruct-Q8_0-00001-of-00002.gguf", "Q8_0"),
    # unsloth dynamic quants
    ("DeepSeek-R1-0528-Qwen3-8B-UD-Q4_K_XL.gguf", "UD-Q4_K_XL"),
    ("Qwen3-30B-A3B-UD-IQ2_XXS.gguf", "UD-IQ2_XXS"),
    ("Qwen3-30B-A3B-UD-Q8_K_XL.gguf", "UD-Q8_K_XL"),
    ("UD-IQ1_S/DeepSeek-R1-0528-UD-IQ1_S-00001-of-00004.gguf", "UD-IQ1_S"),
    ("BF16/Qwen3-235B-A22B-BF16-00001-of-00010.gguf", "BF16"),
    ("gemma-3-27b-it-Q4_K_M.gguf", "Q4_K_M"),
    # mradermacher, static and weighted/imatrix
    ("Llama-3-8B-Instruct.Q8_0.gguf", "Q8_0"),
    ("Llama-3-8B-Instruct.f16.gguf", "F16"),
    ("Llama-3-8B-Instruct.i1-Q4_K_M.gguf", "Q4_K_M"),
    ("Llama-3-8B-Instruct.i1-IQ3_XXS.gguf", "IQ3_XXS"),
    # TheBloke
    ("llama-2-7b-chat.Q4_K_M.gguf", "Q4_K_M"),
    ("mistral-7b-instruct-v0.2.Q5_K_S.gguf", "Q5_K_S"),
    # lmstudio-community, ggml-org, vendors
    ("Meta-Llama-3-8B-Instruct-Q4_K_M.gguf", "Q4_K_M"),
    ("gemma-2-9b-it-IQ4_XS.gguf", "IQ4_XS"),
    ("ggml-model-f16.gguf", "F16"),
    ("ggml-model-Q8_0.gguf", "Q8_0"),
    ("gpt-oss-20b-mxfp4.gguf", "MXFP4"),
    ("qwen2.5-coder-7b-instruct-q4_k_m.gguf", "Q4_K_M"),
    ("qwen2.5-7b-instruct-q4_k_m-00001-of-00002.gguf", "Q4_K_M"),
    ("Phi-3-mini-4k-instruct-fp16.gguf", "F16"),
    ("model-bf16.gguf", "BF16"),
    ("model-fp32.gguf", "F32"),
    # projectors
    ("mmproj-F16.gguf", "F16"),
    ("mmproj-model-f16.gguf", "F16"),
    ("Qwen2-VL-7B-Instruct.mmproj-f16.gguf", "F16"),
    ("mmproj-SmolVLM-256M-Instruct-Q8_0.gguf", "Q8_0"),
    # nothing recognisable
    ("model.gguf", None),
    ("Llama-3-8B-Instruct.gguf", None),
    ("Phi-3-mini-4k-instruct-q4.gguf", None),
    ("imatrix.gguf", None),
]


@pytest.mark.parametrize(("path", "quantization"), REAL_WORLD_NAMES)
def test_real_world_file_names_give_their_quantization(path: str, quantization: str | None) -> None:
    described = describe(path)
    assert described is not None
    assert described.quantization == quantization


@pytest.mark.parametrize(
    ("path", "quantization"),
    [
        ("Model-Q4_K_M.gguf", "Q4_K_M"),
        ("Model-IQ2_XXS.gguf", "IQ2_XXS"),
        ("Model-IQ3_XXS.gguf", "IQ3_XXS"),
        ("Model-Q4_0_4_8.gguf", "Q4_0_4_8"),
        ("Model-UD-Q4_K_XL.gguf", "UD-Q4_K_XL"),
        ("Model-MXFP4_MOE.gguf", "MXFP4_MOE"),
        ("Model-BF16.gguf", "BF16"),
        ("Model-IQ4_NL.gguf", "IQ4_NL"),
    ],
)
def test_the_longest_label_at_a_position_wins(path: str, quantization: str) -> None:
    assert describe(path).quantization == quantization


@pytest.mark.parametrize("separator", [".", "-", "_"])
def test_labels_are_found_after_any_separator(separator: str) -> None:
    assert describe(f"model{separator}Q4_K_M.gguf").quantization == "Q4_K_M"


def test_matching_ignores_case() -> None:
    assert describe("model-ud-iq2_xxs.gguf").quantization == "UD-IQ2_XXS"


def test_a_label_glued_to_letters_is_not_a_label() -> None:
    assert describe("Model-XQ4_K_M.gguf").quantization is None


def test_a_longer_label_must_end_at_a_token_boundary() -> None:
    # "Q4_K_Mixed": Q4_K_M runs into "ixed", so only Q4_K (followed by "_") is a whole token.
    assert describe("Model-Q4_K_Mixed.gguf").quantization == "Q4_K"


def test_an_unknown_suffix_after_an_underscore_keeps_the_known_label() -> None:
    assert describe("Model-Q8_0_imat.gguf").quantization == "Q8_0"


def test_the_label_nearest_the_end_wins_when_a_name_holds_two() -> None:
    assert describe("Model-BF16-Q4_K_M.gguf").quantization == "Q4_K_M"


def test_the_file_name_wins_over_its_folder() -> None:
    assert describe("Q8_0/Model-Q4_K_M.gguf").quantization == "Q4_K_M"


def test_a_file_without_a_label_takes_its_folders() -> None:
    assert describe("Q4_K_M/Model-00001-of-00002.gguf").quantization == "Q4_K_M"


def test_the_innermost_labelled_folder_is_used() -> None:
    assert describe("Q8_0/UD-Q2_K_XL/parts/Model-00001-of-00003.gguf").quantization == "UD-Q2_K_XL"


@pytest.mark.parametrize(
    "path",
    [
        "mmproj.gguf",
        "mmproj-F16.gguf",
        "mmproj-model-f16.gguf",
        "Qwen2.5-VL-7B-Instruct-mmproj-f16.gguf",
        "Qwen2-VL-7B-Instruct.mmproj-f16.gguf",
        "MMPROJ-Q8_0.gguf",
        "vision/mmproj_BF16.gguf",
    ],
)
def test_vision_projectors_are_recognised(path: str) -> None:
    assert describe(path).is_mmproj


@pytest.mark.parametrize("path", ["Model-Q4_K_M.gguf", "summproj-Q4_K_M.gguf", "mmprojector.gguf"])
def test_other_files_are_not_projectors(path: str) -> None:
    assert not describe(path).is_mmproj


@pytest.mark.parametrize("path", ["imatrix.gguf", "Qwen3.5-0.8B.imatrix.gguf", "i1/Model-imatrix.gguf"])
def test_an_importance_matrix_is_recognised(path: str) -> None:
    assert describe(path).is_imatrix


@pytest.mark.parametrize(
    "path", ["Llama-3-8B.i1-Q4_K_M.gguf", "Llama-3-8B-imatrix-Q4_K_M.gguf", "imatrixed-Q4_K_M.gguf"]
)
def test_weights_quantized_with_an_importance_matrix_are_not_one(path: str) -> None:
    assert not describe(path).is_imatrix


@pytest.mark.parametrize(
    ("path", "index", "count", "logical_file", "quantization"),
    [
        ("falcon-180b-chat.Q2_K.gguf-split-a", 1, None, "falcon-180b-chat.Q2_K.gguf", "Q2_K"),
        ("falcon-180b-chat.Q2_K.gguf-split-b", 2, None, "falcon-180b-chat.Q2_K.gguf", "Q2_K"),
        ("sub/llama2-70b.Q8_0.gguf-split-D", 4, None, "sub/llama2-70b.Q8_0.gguf", "Q8_0"),
        ("Llama-3.3-70B-Instruct.Q8_0.gguf.part1of2", 1, 2, "Llama-3.3-70B-Instruct.Q8_0.gguf", "Q8_0"),
        ("Llama-3.1-405B.i1-Q2_K.gguf.part4of4", 4, 4, "Llama-3.1-405B.i1-Q2_K.gguf", "Q2_K"),
    ],
)
def test_a_part_cut_with_split_is_a_part_of_its_gguf_file(
    path: str, index: int, count: int | None, logical_file: str, quantization: str
) -> None:
    name = describe(path)
    assert name is not None
    assert is_gguf_path(path)
    assert (name.split_index, name.split_count, name.logical_file) == (index, count, logical_file)
    assert (name.quantization, name.byte_split) == (quantization, True)


@pytest.mark.parametrize(
    "path",
    [".gguf-split-a", "model.gguf-split-ab", "model.gguf-split-1", "model.gguf.part1", "model.gguf.part3of2"],
)
def test_other_names_after_gguf_are_no_gguf_files(path: str) -> None:
    assert not is_gguf_path(path)
    assert describe(path) is None


@pytest.mark.parametrize(
    ("path", "index", "count", "logical_file"),
    [
        ("Model-Q4_K_M-00001-of-00003.gguf", 1, 3, "Model-Q4_K_M.gguf"),
        ("Model-Q4_K_M-00003-of-00003.gguf", 3, 3, "Model-Q4_K_M.gguf"),
        ("Model-Q4_K_M-split-00002-of-00009.gguf", 2, 9, "Model-Q4_K_M.gguf"),
        (
            "UD-Q4_K_XL/Model-UD-Q4_K_XL-00001-of-00002.gguf",
            1,
            2,
            "UD-Q4_K_XL/Model-UD-Q4_K_XL.gguf",
        ),
        ("Model-Q8_0-00001-of-00001.gguf", 1, 1, "Model-Q8_0.gguf"),
    ],
)
def test_split_parts_give_index_count_and_logical_file(
    path: str, index: int, count: int, logical_file: str
) -> None:
    described = describe(path)
    assert (described.split_index, described.split_count, described.logical_file) == (
        index,
        count,
        logical_file,
    )


def test_split_suffix_is_not_mistaken_for_part_of_the_quantization() -> None:
    assert describe("Model-Q4_K_M-00001-of-00003.gguf").quantization == "Q4_K_M"


def test_names_written_by_gguf_split_are_understood() -> None:
    described = describe(SHARD_NAME_FORMAT.format("Model-Q5_K_M", 2, 4))
    assert (described.split_index, described.split_count, described.logical_file) == (
        2,
        4,
        "Model-Q5_K_M.gguf",
    )


def test_unsplit_files_have_no_split_and_are_their_own_logical_file() -> None:
    described = describe("folder/Model-Q4_K_M.gguf")
    assert (described.split_index, described.split_count) == (None, None)
    assert described.logical_file == "folder/Model-Q4_K_M.gguf"


@pytest.mark.parametrize("path", ["Model-00000-of-00002.gguf", "Model-00003-of-00002.gguf"])
def test_impossible_split_numbers_are_not_splits(path: str) -> None:
    described = describe(path)
    assert (described.split_index, described.split_count, described.logical_file) == (None, None, path)


@pytest.mark.parametrize(
    "path",
    ["README.md", ".gitattributes", "Model-Q4_K_M.gguf.bak", "Model.i1-Q6_K.gguf.part0of2", "a/.gguf"],
)
def test_non_gguf_paths_are_not_described(path: str) -> None:
    assert describe(path) is None
    assert not is_gguf_path(path)


def test_the_gguf_extension_is_case_insensitive() -> None:
    assert is_gguf_path("Model-Q4_K_M.GGUF")


def test_the_described_path_is_kept() -> None:
    assert describe("a/b/Model-Q4_K_M.gguf").path == "a/b/Model-Q4_K_M.gguf"


def test_labels_cover_llama_cpp_and_community_quantizations() -> None:
    assert quantization_labels() >= LLAMA_CPP_LABELS | COMMUNITY_LABELS


def test_labels_are_canonical_spellings_only() -> None:
    assert quantization_labels().isdisjoint({"FP16", "FP32", "GUESSED", "I8", "I32", "Q4_K_M".lower()})


def test_every_known_label_names_itself() -> None:
    found = {label: describe(f"Model-{label}.gguf").quantization for label in quantization_labels()}
    assert found == {label: label for label in quantization_labels()}


@given(
    label=st.sampled_from(sorted(quantization_labels())),
    base=st.sampled_from(["Model", "Meta-Llama-3.1-8B-Instruct", "qwen2.5-7b", "gemma-3-27b-it", "Phi-3.5"]),
    separator=st.sampled_from([".", "-", "_", ".i1-"]),
    lower=st.booleans(),
    split=st.sampled_from(["", "-00002-of-00005", "-split-00001-of-00002"]),
)
def test_every_label_survives_real_naming_patterns(
    label: str, base: str, separator: str, lower: bool, split: str
) -> None:
    written = label.lower() if lower else label
    assert describe(f"{base}{separator}{written}{split}.gguf").quantization == label


def test_every_llama_cpp_file_type_has_a_known_label() -> None:
    labelled = [member for member in LlamaFileType if member is not LlamaFileType.GUESSED]
    assert all(label_for_file_type(member) in quantization_labels() for member in labelled)


def test_file_types_map_to_the_labels_used_in_file_names() -> None:
    assert [label_for_file_type(t) for t in (0, 1, 15, 32, 19)] == ["F32", "F16", "Q4_K_M", "BF16", "IQ2_XXS"]


@pytest.mark.parametrize("file_type", [int(LlamaFileType.GUESSED), 4, 9999, -1])
def test_unknown_file_types_have_no_label(file_type: int) -> None:
    assert label_for_file_type(file_type) is None
