"""Served .gguf files start with real GGUF headers that agree with the file name and the Hub summary."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import gguf
import httpx
import pytest

from ggufsync_assets.hubsim import HubFile, HubSimulator, Realism, Repo, gguf_file, tensor_data_length
from ggufsync_assets.hubsim.families import quantization
from ggufsync_tests.hubsim.gguf_kv import Header, read_header

MIB = 1 << 20


def _fetch(http: httpx.Client, sim: HubSimulator, repo: Repo, path: str, length: int) -> bytes:
    """The first `length` bytes of a file, the way a client gets them: resolve, redirect, range."""
    headers = {"Authorization": "Bearer hf_test"} if repo.gated else {}
    redirect = http.get(f"{sim.url}/{repo.id}/resolve/main/{path}", headers=headers)
    assert redirect.status_code == 302
    response = http.get(redirect.headers["Location"], headers={"Range": f"bytes=0-{length - 1}"})
    assert response.status_code == 206
    return response.content


def _header(http: httpx.Client, sim: HubSimulator, repo: Repo, path: str) -> Header:
    """Fetch more and more of the file until the whole header parses, as a metadata client would."""
    length = 256 * 1024
    while True:
        try:
            return read_header(_fetch(http, sim, repo, path, length))
        except EOFError:
            assert length < 64 * MIB, "no GGUF header should be that long"
            length *= 4


def _files(sim: HubSimulator, predicate: Callable[[Repo, HubFile], bool]) -> list[tuple[Repo, HubFile]]:
    return [(repo, f) for repo in sim.state for f in repo.files if f.gguf and predicate(repo, f)]


def test_served_header_reads_back_with_gguf_reader(
    http: httpx.Client, hub_sim: HubSimulator, tmp_path: Path
) -> None:
    repo, hub_file = _files(
        hub_sim,
        lambda r, f: (
            f.gguf.family.tokenizer.vocab_size <= 32768 and f.gguf.kind == "model" and f.gguf.split_count == 1
        ),
    )[0]
    header = hub_sim.gguf_headers.get(hub_file.gguf)
    length = header.length + tensor_data_length(hub_file.gguf)
    path = tmp_path / "prefix.gguf"
    path.write_bytes(_fetch(http, hub_sim, repo, hub_file.path, length))
    reader = gguf.GGUFReader(path)
    family = hub_file.gguf.family
    assert reader.get_field("general.architecture").contents() == family.architecture
    assert reader.get_field(f"{family.architecture}.context_length").contents() == family.context_length
    assert reader.get_field(f"{family.architecture}.block_count").contents() == family.block_count
    assert reader.get_field("general.file_type").contents() == quantization(hub_file.gguf.quant).file_type
    assert len(reader.get_field("tokenizer.ggml.tokens").data) == family.tokenizer.vocab_size
    assert reader.tensors


def test_file_type_matches_the_quantization_in_the_file_name(
    http: httpx.Client, hub_sim: HubSimulator
) -> None:
    checked = 0
    for repo, hub_file in _files(
        hub_sim,
        lambda r, f: (
            f.gguf.kind == "model"
            and f.gguf.split_count == 1
            and not r.gated
            and f.gguf.quant.lower() in f.path.lower()
        ),
    )[:6]:
        header = _header(http, hub_sim, repo, hub_file.path)
        assert header.metadata["general.file_type"] == quantization(hub_file.gguf.quant).file_type
        checked += 1
    assert checked == 6


def test_a_file_named_without_its_quantization_still_declares_it_in_its_header(
    http: httpx.Client, hub_sim_factory: Callable[..., HubSimulator]
) -> None:
    sim = hub_sim_factory(realism=Realism(odd_file_names=0.9))
    repo, hub_file = _files(
        sim,
        lambda r, f: f.gguf.kind == "model" and not r.gated and f.gguf.quant.lower() not in f.path.lower(),
    )[0]
    header = _header(http, sim, repo, hub_file.path)
    assert header.metadata["general.file_type"] == quantization(hub_file.gguf.quant).file_type


def test_header_agrees_with_the_hub_gguf_summary(http: httpx.Client, hub_sim: HubSimulator) -> None:
    repo, hub_file = _files(
        hub_sim,
        lambda r, f: r.gguf is not None and f.gguf.kind == "model" and f.gguf.split_no == 0 and not r.gated,
    )[0]
    metadata = _header(http, hub_sim, repo, hub_file.path).metadata
    architecture = metadata["general.architecture"]
    tokens = metadata["tokenizer.ggml.tokens"]
    assert architecture == repo.gguf["architecture"]
    assert metadata[f"{architecture}.context_length"] == repo.gguf["context_length"]
    assert tokens[metadata["tokenizer.ggml.bos_token_id"]] == repo.gguf["bos_token"]
    assert tokens[metadata["tokenizer.ggml.eos_token_id"]] == repo.gguf["eos_token"]
    assert metadata.get("tokenizer.chat_template") == repo.gguf.get("chat_template")


def test_split_shards_carry_split_keys_and_only_the_first_the_full_metadata(
    http: httpx.Client, hub_sim: HubSimulator
) -> None:
    shards = _files(hub_sim, lambda r, f: f.gguf.split_count > 1 and not r.gated)
    repo = shards[0][0]
    quant_shards = sorted(
        (f for r, f in shards if r is repo and f.gguf.quant == shards[0][1].gguf.quant),
        key=lambda f: f.gguf.split_no,
    )
    headers = [_header(http, hub_sim, repo, f.path) for f in quant_shards[:2]]
    count = quant_shards[0].gguf.split_count
    assert [h.metadata["split.no"] for h in headers] == [0, 1]
    assert {h.metadata["split.count"] for h in headers} == {count}
    assert {h.metadata["split.tensors.count"] for h in headers} == {2 * count + 1}
    assert "tokenizer.ggml.tokens" in headers[0].metadata
    assert "tokenizer.ggml.tokens" not in headers[1].metadata
    assert f"-00001-of-{count:05d}.gguf" in quant_shards[0].path


def test_vision_projector_is_a_clip_gguf(http: httpx.Client, hub_sim: HubSimulator) -> None:
    repo, hub_file = _files(hub_sim, lambda r, f: f.gguf.kind == "mmproj" and not r.gated)[0]
    assert hub_file.path.startswith("mmproj")
    metadata = _header(http, hub_sim, repo, hub_file.path).metadata
    assert metadata["general.architecture"] == "clip"
    assert metadata["clip.has_vision_encoder"] is True


def test_default_repos_have_headers_over_one_mebibyte(
    http: httpx.Client, hub_sim_factory: Callable[..., HubSimulator]
) -> None:
    sim = hub_sim_factory(repos=200)
    repo, hub_file = _files(
        sim,
        lambda r, f: (
            f.gguf.family.tokenizer.vocab_size >= 150_000
            and f.gguf.split_no == 0
            and f.gguf.kind == "model"
            and not r.gated
        ),
    )[0]
    header = _header(http, sim, repo, hub_file.path)
    assert header.length > MIB
    assert len(header.metadata["tokenizer.ggml.tokens"]) >= 150_000


def test_headers_are_built_on_first_read_and_then_cached(http: httpx.Client, hub_sim: HubSimulator) -> None:
    repo, hub_file = _files(hub_sim, lambda r, f: not r.gated)[0]
    assert hub_sim.gguf_headers.builds == 0
    first = _fetch(http, hub_sim, repo, hub_file.path, 4096)
    second = _fetch(http, hub_sim, repo, hub_file.path, 4096)
    assert first == second
    assert hub_sim.gguf_headers.builds == 1


def test_file_past_the_header_is_zero_filler_up_to_its_size(
    http: httpx.Client, hub_sim: HubSimulator
) -> None:
    repo, hub_file = _files(hub_sim, lambda r, f: not r.gated)[0]
    location = http.head(f"{hub_sim.url}/{repo.id}/resolve/main/{hub_file.path}").headers["Location"]
    start = hub_file.size - 3 * MIB
    response = http.get(location, headers={"Range": f"bytes={start}-"})
    assert response.status_code == 206
    assert response.content == bytes(3 * MIB)


@pytest.mark.parametrize("quant", ["Q4_K_M", "Q8_0", "IQ2_XXS", "UD-Q4_K_XL", "i1-Q5_K_S", "BF16"])
def test_advertised_size_is_parameters_times_bits_per_weight_plus_a_little(quant: str) -> None:
    hub_file = gguf_file(f"model-{quant}.gguf", "Qwen/Qwen2.5-7B-Instruct", quant)
    weights = 7.62e9 * quantization(quant).bits_per_weight / 8
    assert 0 <= hub_file.size - weights < 64 * MIB
