"""The installed huggingface_hub works unchanged against the simulator, as against the real Hub."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import gguf
import pytest
from huggingface_hub import HfApi, get_hf_file_metadata, hf_hub_download, hf_hub_url
from huggingface_hub.errors import (
    GatedRepoError,
    HfHubHTTPError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from ggufsync_assets.hubsim import HubSimulator, Repo, gguf_file, small_file

EXPAND = [
    "author",
    "cardData",
    "createdAt",
    "downloads",
    "gated",
    "gguf",
    "lastModified",
    "library_name",
    "likes",
    "pipeline_tag",
    "private",
    "sha",
    "siblings",
    "tags",
    "trendingScore",
    "downloadsAllTime",
]


def _public_with_gguf(sim: HubSimulator) -> Repo:
    return next(
        r
        for r in sim.state
        if not r.gated
        and r.file("README.md")
        and any(f.gguf for f in r.files)
        and any("/" in f.path for f in r.files)
    )


def test_list_models_walks_every_page_with_expand(hub_sim_factory: Callable[..., HubSimulator]) -> None:
    sim = hub_sim_factory(repos=120, page_size=9)
    models = list(HfApi(endpoint=sim.url).list_models(filter="gguf", expand=EXPAND))
    pages = sum(1 for record in sim.requests if record.path == "/api/models")
    truth = {repo.id: repo for repo in sim.state if "gguf" in repo.tags}
    assert pages == -(-len(truth) // 9)
    assert {model.id for model in models} == set(truth)
    for model in models:
        repo = truth[model.id]
        assert model.sha == repo.sha
        assert model.last_modified == repo.last_modified
        assert model.gguf == repo.gguf
        assert model.gated == repo.gated
        assert [s.rfilename for s in model.siblings] == [f.path for f in repo.files]
        assert (model.card_data is None) == (repo.card_data is None)


def test_list_models_with_filter_author_search_and_expand_over_many_pages(
    hub_sim_factory: Callable[..., HubSimulator],
) -> None:
    sim = hub_sim_factory(repos=300, page_size=3)
    api = HfApi(endpoint=sim.url)
    models = list(api.list_models(filter="gguf", author="mradermacher", search="-", expand=["sha", "gguf"]))
    expected = {r.id: r for r in sim.state if "gguf" in r.tags and r.author == "mradermacher"}
    assert {m.id for m in models} == set(expected)
    assert all(m.sha == expected[m.id].sha and m.gguf == expected[m.id].gguf for m in models)
    assert sum(1 for r in sim.requests if r.path == "/api/models") > 5


def test_list_models_with_search_author_and_sort(hub_sim: HubSimulator, hub_api: HfApi) -> None:
    author = next(r.author for r in hub_sim.state if r.author == "bartowski")
    models = list(hub_api.list_models(author=author, search="b", sort="downloads"))
    expected = [r for r in hub_sim.state if r.author == author and "b" in r.id.lower()]
    assert {m.id for m in models} == {r.id for r in expected}
    assert [m.downloads for m in models] == sorted((m.downloads for m in models), reverse=True)


def test_list_models_limit_stops_after_enough_results(hub_sim: HubSimulator, hub_api: HfApi) -> None:
    models = list(hub_api.list_models(sort="last_modified", limit=3))
    newest = sorted(hub_sim.state, key=lambda r: r.last_modified, reverse=True)[:3]
    assert [m.id for m in models] == [r.id for r in newest]


def test_list_models_rejects_expand_with_full_before_asking(hub_api: HfApi) -> None:
    with pytest.raises(ValueError, match="expand"):
        list(hub_api.list_models(expand=["sha"], full=True))


def test_model_info_files_metadata_gives_sizes_and_lfs(hub_sim: HubSimulator, hub_api: HfApi) -> None:
    repo = _public_with_gguf(hub_sim)
    info = hub_api.model_info(repo.id, files_metadata=True)
    siblings = {sibling.rfilename: sibling for sibling in info.siblings}
    for hub_file in repo.files:
        assert siblings[hub_file.path].size == hub_file.size
        assert siblings[hub_file.path].blob_id == hub_file.oid
        lfs = siblings[hub_file.path].lfs
        if hub_file.is_lfs:
            assert (lfs.sha256, lfs.size, lfs.pointer_size) == (
                hub_file.lfs_sha256,
                hub_file.size,
                hub_file.pointer_size,
            )
        else:
            assert lfs is None
    assert info.card_data is not None or repo.card_data is None


def test_model_info_with_expand_and_at_a_revision(hub_sim: HubSimulator, hub_api: HfApi) -> None:
    repo = _public_with_gguf(hub_sim)
    hub_sim.edit(repo.id)
    old = hub_api.model_info(repo.id, revision=repo.sha, expand=["sha", "lastModified"])
    assert (old.sha, old.last_modified) == (repo.sha, repo.last_modified)


def test_list_repo_tree_recursive_gives_files_and_folders_across_pages(
    hub_sim_factory: Callable[..., HubSimulator],
) -> None:
    sim = hub_sim_factory(tree_page_size=4)
    repo = _public_with_gguf(sim)
    entries = list(HfApi(endpoint=sim.url).list_repo_tree(repo.id, recursive=True))
    files = {e.path: e for e in entries if e.__class__.__name__ == "RepoFile"}
    folders = {e.path for e in entries if e.__class__.__name__ == "RepoFolder"}
    assert set(files) == {f.path for f in repo.files}
    assert folders == {f.path.rsplit("/", 1)[0] for f in repo.files if "/" in f.path}
    assert all(files[f.path].size == f.size for f in repo.files)
    assert all((files[f.path].lfs is not None) == f.is_lfs for f in repo.files)
    assert sum(1 for r in sim.requests if "/tree/" in r.path) > 1


def test_list_repo_tree_of_a_subfolder(hub_sim: HubSimulator, hub_api: HfApi) -> None:
    repo = _public_with_gguf(hub_sim)
    folder = next(f.path for f in repo.files if "/" in f.path).rsplit("/", 1)[0]
    entries = list(hub_api.list_repo_tree(repo.id, path_in_repo=folder))
    assert {e.path for e in entries} == {f.path for f in repo.files if f.path.startswith(f"{folder}/")}


def test_hf_hub_download_fetches_a_small_file(hub_sim: HubSimulator, tmp_path: Path) -> None:
    repo = _public_with_gguf(hub_sim)
    path = hf_hub_download(repo.id, "README.md", endpoint=hub_sim.url, cache_dir=tmp_path)
    assert Path(path).read_bytes() == repo.file("README.md").content
    assert repo.sha in path


def test_hf_hub_download_follows_the_lfs_redirect_to_the_cdn_without_the_token(
    hub_sim: HubSimulator, tmp_path: Path
) -> None:
    repo = hub_sim.add(
        "me/tiny-GGUF",
        gated="auto",
        files=[
            gguf_file("tiny-Q4_K_M.gguf", "meta-llama/Llama-2-7b-chat-hf", size=4 << 20),
            small_file("README.md", "# tiny\n"),
        ],
    )
    hub_sim.clear_requests()
    path = hf_hub_download(
        repo.id, "tiny-Q4_K_M.gguf", endpoint=hub_sim.url, cache_dir=tmp_path, token="hf_test"
    )
    reader = gguf.GGUFReader(path)
    assert Path(path).stat().st_size == 4 << 20
    assert reader.get_field("general.architecture").contents() == "llama"
    assert reader.get_field("general.file_type").contents() == gguf.LlamaFileType.MOSTLY_Q4_K_M
    cdn = [r for r in hub_sim.requests if r.host == "cdn"]
    assert cdn
    assert not any(r.authorized for r in cdn)
    assert all(r.authorized for r in hub_sim.requests if r.host == "api")


def test_get_hf_file_metadata_reads_the_redirect_headers(hub_sim: HubSimulator) -> None:
    repo = _public_with_gguf(hub_sim)
    hub_file = next(f for f in repo.files if f.gguf)
    metadata = get_hf_file_metadata(hf_hub_url(repo.id, hub_file.path, endpoint=hub_sim.url))
    assert metadata.commit_hash == repo.sha
    assert metadata.etag == hub_file.lfs_sha256
    assert metadata.size == hub_file.size
    assert metadata.location.startswith(hub_sim.cdn_url)


def test_gated_download_without_a_token_raises_gated_repo_error(
    hub_sim: HubSimulator, tmp_path: Path
) -> None:
    repo = next(r for r in hub_sim.state if r.gated)
    with pytest.raises(GatedRepoError):
        hf_hub_download(repo.id, ".gitattributes", endpoint=hub_sim.url, cache_dir=tmp_path)


@pytest.mark.parametrize(
    ("repo_id", "filename", "revision", "error"),
    [
        ("nobody/nothing", "README.md", None, RepositoryNotFoundError),
        (None, "README.md", "f" * 40, RevisionNotFoundError),
        (None, "missing.gguf", None, RemoteEntryNotFoundError),
    ],
)
def test_download_errors_map_to_huggingface_hub_exceptions(
    hub_sim: HubSimulator,
    tmp_path: Path,
    repo_id: str | None,
    filename: str,
    revision: str | None,
    error: type[Exception],
) -> None:
    repo_id = repo_id or _public_with_gguf(hub_sim).id
    with pytest.raises(error):
        hf_hub_download(repo_id, filename, revision=revision, endpoint=hub_sim.url, cache_dir=tmp_path)


def test_model_info_of_an_unknown_repo_raises_repository_not_found(hub_api: HfApi) -> None:
    with pytest.raises(RepositoryNotFoundError):
        hub_api.model_info("nobody/nothing")


def test_huggingface_hub_retries_through_a_transient_5xx(hub_sim: HubSimulator, hub_api: HfApi) -> None:
    hub_sim.faults.script("error", status=503, path_prefix="/api/models")
    models = list(itertools.islice(hub_api.list_models(), 3))
    assert len(models) == 3
    assert [r.status for r in hub_sim.requests][:2] == [503, 200]


def test_listing_waits_out_a_429_using_the_rate_limit_headers(
    hub_sim_factory: Callable[..., HubSimulator],
) -> None:
    sim = hub_sim_factory(api_quota=1, api_window=3)  # long enough for the second call to land in it
    api = HfApi(endpoint=sim.url)
    list(api.list_models(limit=1))
    assert len(list(api.list_models(limit=1))) == 1
    assert [r.status for r in sim.requests] == [200, 429, 200]


def test_model_info_over_quota_raises_an_error_naming_the_rate_limit(
    hub_sim_factory: Callable[..., HubSimulator],
) -> None:
    sim = hub_sim_factory(api_quota=1, api_window=60)
    api = HfApi(endpoint=sim.url)
    api.model_info(sim.state.repos()[0].id)
    with pytest.raises(HfHubHTTPError, match="rate limit"):
        api.model_info(sim.state.repos()[1].id)
