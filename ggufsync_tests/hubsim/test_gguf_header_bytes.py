"""Headers are generated only as far as a read reaches, yet every range of a served .gguf file is byte
for byte the file GGUFWriter writes (`write_header_to_file` and the next two, token arrays packed value
by value) followed by zeros: prefixes, whole headers, ranges into the tensor data and past it."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from gguf import GGUF_DEFAULT_ALIGNMENT, GGUFValue, GGUFValueType, Keys, TokenType

from ggufsync_assets.hubsim import GGUFSpec, HubSimulator, gguf_files, lfs_file, tensor_data_length
from ggufsync_assets.hubsim.families import FAMILIES_BY_BASE_MODEL, Tokenizer
from ggufsync_assets.hubsim.gguf_files import HeaderWriter, TokenArray, build_header, iter_content

KIB = 1024
_SYLLABLES = [c + v for c in "bcdfghjklmnprstv" for v in "aeio"]


def _spec(base_model: str, *, projector: bool = False, split: tuple[int, int] = (0, 1)) -> GGUFSpec:
    family = FAMILIES_BY_BASE_MODEL[base_model]
    kind = "mmproj" if projector else "model"
    return GGUFSpec(family, "Q4_K_M", family.name, kind, split[0], split[1], f"{family.name}-quantizer")


SPECS = {
    "wordpiece, no chat template": _spec("nomic-ai/nomic-embed-text-v1.5"),
    "sentencepiece, byte tokens": _spec("TinyLlama/TinyLlama-1.1B-Chat-v1.0"),
    "bpe, one id for bos and eos": _spec("ibm-granite/granite-3.1-8b-instruct"),
    "first split part": _spec("Qwen/Qwen2.5-7B-Instruct", split=(0, 3)),
    "middle split part": _spec("Qwen/Qwen2.5-7B-Instruct", split=(1, 3)),
    "last split part": _spec("Qwen/Qwen2.5-7B-Instruct", split=(2, 3)),
    "largest vocabulary, eos on a byte token": _spec("google/gemma-3-4b-it"),
    "vision projector": _spec("google/gemma-3-4b-it", projector=True),
}


def _spelled(tokenizer: Tokenizer) -> tuple[list[str], list[int]]:
    """The vocabulary token by token, as the simulator documents it: token i spells i in base 64,
    least significant syllable first, after a word-start marker on two tokens of three ("##" on the
    third when the tokenizer has no marker); special tokens at their ids, later ones winning."""
    marker = {"gpt2": "Ġ", "llama": "▁"}.get(tokenizer.model, "")
    bare = "" if marker else "##"
    texts, types = [], [int(TokenType.NORMAL)] * tokenizer.vocab_size
    for token_id in range(tokenizer.vocab_size):
        word, rest = _SYLLABLES[token_id % 64], token_id
        while rest >= 64:
            rest //= 64
            word += _SYLLABLES[rest % 64]
        texts.append((marker if token_id % 3 else bare) + word)
    special = {}
    if tokenizer.model == "llama":
        special[0] = ("<unk>", TokenType.UNKNOWN)
        special.update({byte + 3: (f"<0x{byte:02X}>", TokenType.BYTE) for byte in range(256)})
    special[tokenizer.bos_id] = (tokenizer.bos, TokenType.CONTROL)
    special[tokenizer.eos_id] = (tokenizer.eos, TokenType.CONTROL)
    for token_id, (text, token_type) in special.items():
        texts[token_id], types[token_id] = text, int(token_type)
    return texts, types


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Callable[[GGUFSpec], bytes]:
    """The header GGUFWriter writes to a file for a spec, padded to the data alignment (once a spec)."""
    headers: dict[GGUFSpec, bytes] = {}

    def write(spec: GGUFSpec) -> bytes:
        if spec not in headers:
            writer = HeaderWriter(spec)
            key_values = writer.kv_data[0]
            for key, value in key_values.items():
                if isinstance(value.value, TokenArray):
                    texts, types = _spelled(value.value.tokenizer)
                    elements = texts if key == Keys.Tokenizer.LIST else types
                    key_values[key] = GGUFValue(elements, GGUFValueType.ARRAY, value.value.element)
            path = tmp_path_factory.mktemp("written") / "header.gguf"
            writer.write_header_to_file(path)
            writer.write_kv_data_to_file()
            writer.write_ti_data_to_file()
            writer.close()
            data = path.read_bytes()
            headers[spec] = data + bytes(-len(data) % GGUF_DEFAULT_ALIGNMENT)
        return headers[spec]

    return write


def _file_size(spec: GGUFSpec, header: bytes) -> int:
    """A file size with some zero filler after the header and its tensor data."""
    return len(header) + tensor_data_length(spec) + 100 * KIB


def _ranges(spec: GGUFSpec, header: bytes) -> list[tuple[int, int]]:
    """[start, stop) ranges: prefixes ending in the key/values before the token list, in the token
    list (at 64 KiB, a sync's first read, and halfway), in the token types, just before the header's
    end and at it; the header with its tensor data, a middle slice, ranges across and past the
    header's end, the file's end and the whole file."""
    end, size = len(header), _file_size(spec, header)
    data_end = end + tensor_data_length(spec)
    ranges = [
        (0, 100),
        (0, 64 * KIB),
        (0, end // 2),
        (0, end - 7),
        (0, end),
        (0, data_end + 100),
        (end // 3, 2 * end // 3),
        (end - 10, data_end),
        (end, size),
        (data_end, data_end + 5),
        (size - 16, size),
        (0, size),
    ]
    tokens_at = header.find(Keys.Tokenizer.LIST.encode())
    if tokens_at > 0:
        types_at = header.find(Keys.Tokenizer.TOKEN_TYPE.encode())
        ranges += [(0, tokens_at - 10), (0, types_at + 1000), (tokens_at + 5000, types_at + 1000)]
    return ranges


@pytest.mark.parametrize("spec", SPECS.values(), ids=SPECS.keys())
def test_every_range_of_a_file_is_the_written_header_then_zeros(
    spec: GGUFSpec, written: Callable[[GGUFSpec], bytes]
) -> None:
    header = written(spec)
    laid_out = build_header(spec)
    assert laid_out.length == len(header)
    file = header + bytes(_file_size(spec, header) - len(header))
    for start, stop in _ranges(spec, header):
        assert b"".join(iter_content(laid_out, start, stop)) == file[start:stop], (start, stop)


def test_served_ranges_are_the_written_bytes(
    http: httpx.Client, hub_sim_factory: Callable[..., HubSimulator], written: Callable[[GGUFSpec], bytes]
) -> None:
    sim = hub_sim_factory(repos=0)
    files = {
        name: lfs_file(f"{index}.gguf", _file_size(spec, written(spec)), key=name, gguf=spec)
        for index, (name, spec) in enumerate(SPECS.items())
    }
    sim.add("test/header-bytes", files=list(files.values()), gated=False, private=False)
    for hub_file in files.values():
        assert hub_file.gguf is not None
        header = written(hub_file.gguf)
        file = header + bytes(hub_file.size - len(header))
        url = f"{sim.cdn_url}/lfs/{hub_file.lfs_sha256}"
        assert http.get(url).content == file
        assert http.get(url, headers={"Range": "bytes=-16"}).content == file[-16:]
        assert (
            http.get(url, headers={"Range": f"bytes={len(header) - 3}-"}).content == file[len(header) - 3 :]
        )
        for start, stop in _ranges(hub_file.gguf, header):
            response = http.get(url, headers={"Range": f"bytes={start}-{stop - 1}"})
            assert response.status_code == 206
            assert response.content == file[start:stop], (hub_file.path, start, stop)


def test_a_prefix_read_generates_only_the_token_blocks_it_reaches_and_a_read_past_the_header_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    generated: list[tuple[str, int]] = []
    for name in ("_token_list_block", "_token_type_block"):
        block = getattr(gguf_files, name)

        def counted(
            tokenizer: Tokenizer, index: int, name: str = name, block: Callable[..., bytes] = block
        ) -> bytes:
            generated.append((name, index))
            return block(tokenizer, index)

        monkeypatch.setattr(gguf_files, name, counted)
    header = build_header(SPECS["largest vocabulary, eos on a byte token"])
    assert len(b"".join(iter_content(header, 0, 64 * KIB))) == 64 * KIB
    # 4,096 tokens (about 50 KB) a block, 65 blocks in all: the key/values before the token list and
    # its first block fall short of 64 KiB, the second block does not.
    assert generated == [("_token_list_block", 0), ("_token_list_block", 1)]
    generated.clear()
    assert b"".join(iter_content(header, header.length, header.length + 64 * KIB)) == bytes(64 * KIB)
    assert generated == []


@pytest.mark.parametrize(
    "tokenizer",
    sorted({family.tokenizer for family in FAMILIES_BY_BASE_MODEL.values()}, key=repr),
    ids=lambda tokenizer: f"{tokenizer.model}-{tokenizer.vocab_size}-{tokenizer.eos_id}",
)
def test_token_array_lengths_are_counted_without_generating_them(tokenizer: Tokenizer) -> None:
    for element in (GGUFValueType.STRING, GGUFValueType.INT32):
        array = TokenArray(tokenizer, element)  # type: ignore[arg-type]
        assert array.length == sum(len(chunk) for chunk in array.chunks())
