"""Model info, file trees and `/resolve/` downloads: direct small files, LFS redirects to the CDN."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from urllib.parse import quote

import httpx
import pytest
import yaml

from ggufsync_assets.hubsim import HubSimulator, Repo


def _nested(sim: HubSimulator) -> Repo:
    """A repo keeping files in subfolders (split quantizations)."""
    return next(r for r in sim.state if any("/" in f.path for f in r.files))


def _with_gguf(sim: HubSimulator, *, gated: bool = False) -> Repo:
    return next(r for r in sim.state if bool(r.gated) == gated and any(f.gguf for f in r.files))


def _lfs_path(repo: Repo) -> str:
    return next(f.path for f in repo.files if f.gguf)


def test_model_info_with_blobs_gives_sizes_blob_ids_and_lfs(
    http: httpx.Client, hub_sim: HubSimulator
) -> None:
    repo = _nested(hub_sim)
    info = http.get(f"{hub_sim.url}/api/models/{repo.id}", params={"blobs": "true"}).json()
    assert info["sha"] == repo.sha
    siblings = {sibling["rfilename"]: sibling for sibling in info["siblings"]}
    assert set(siblings) == {f.path for f in repo.files}
    for hub_file in repo.files:
        sibling = siblings[hub_file.path]
        assert sibling["size"] == hub_file.size
        assert sibling["blobId"] == hub_file.oid
        if hub_file.is_lfs:
            assert sibling["lfs"] == {
                "sha256": hub_file.lfs_sha256,
                "size": hub_file.size,
                "pointerSize": hub_file.pointer_size,
            }
        else:
            assert "lfs" not in sibling


def test_model_info_without_blobs_lists_only_file_names(http: httpx.Client, hub_sim: HubSimulator) -> None:
    repo = _nested(hub_sim)
    info = http.get(f"{hub_sim.url}/api/models/{repo.id}").json()
    assert all(set(sibling) == {"rfilename"} for sibling in info["siblings"])
    assert info["id"] == info["modelId"] == repo.id
    assert info["lastModified"].endswith("Z")


def test_model_info_expand_returns_only_the_requested_properties(
    http: httpx.Client, hub_sim: HubSimulator
) -> None:
    repo = _nested(hub_sim)
    info = http.get(f"{hub_sim.url}/api/models/{repo.id}", params={"expand": ["sha", "gated"]}).json()
    assert info == {"_id": repo.object_id, "id": repo.id, "sha": repo.sha, "gated": repo.gated}


def test_model_info_expand_with_carddata_is_a_400(http: httpx.Client, hub_sim: HubSimulator) -> None:
    repo = _nested(hub_sim)
    response = http.get(f"{hub_sim.url}/api/models/{repo.id}", params={"expand": "sha", "cardData": "true"})
    assert response.status_code == 400


def test_old_revision_stays_readable_after_an_edit(http: httpx.Client, hub_sim: HubSimulator) -> None:
    repo = _nested(hub_sim)
    hub_sim.edit(repo.id)
    old = http.get(f"{hub_sim.url}/api/models/{repo.id}/revision/{repo.sha}").json()
    current = http.get(f"{hub_sim.url}/api/models/{repo.id}/revision/main").json()
    assert old["sha"] == repo.sha
    assert current["sha"] != repo.sha


def test_unknown_revision_is_a_404_revision_not_found(http: httpx.Client, hub_sim: HubSimulator) -> None:
    repo = _nested(hub_sim)
    response = http.get(f"{hub_sim.url}/api/models/{repo.id}/revision/{'0' * 40}")
    assert response.status_code == 404
    assert response.headers["X-Error-Code"] == "RevisionNotFound"


@pytest.mark.parametrize(
    "path",
    [
        "/api/models/nobody/nothing",
        "/api/models/nobody/nothing/revision/main",
        "/api/models/nobody/nothing/tree/main",
        "/nobody/nothing/resolve/main/README.md",
        "/api/models/gpt2",
    ],
)
def test_unknown_repo_is_a_401_repo_not_found_on_every_route(
    http: httpx.Client, hub_sim: HubSimulator, path: str
) -> None:
    response = http.get(f"{hub_sim.url}{path}")
    assert response.status_code == 401
    assert response.headers["X-Error-Code"] == "RepoNotFound"
    assert response.json() == {"error": "Repository not found"}


def test_tree_lists_top_level_entries_with_folders(http: httpx.Client, hub_sim: HubSimulator) -> None:
    repo = _nested(hub_sim)
    entries = http.get(f"{hub_sim.url}/api/models/{repo.id}/tree/main").json()
    top_files = {f.path for f in repo.files if "/" not in f.path}
    folders = {f.path.split("/")[0] for f in repo.files if "/" in f.path}
    assert {e["path"] for e in entries if e["type"] == "file"} == top_files
    assert {e["path"] for e in entries if e["type"] == "directory"} == folders
    for entry in entries:
        if entry["type"] == "directory":
            assert entry["size"] == 0
            assert len(entry["oid"]) == 40
            assert "lfs" not in entry


def test_tree_recursive_lists_every_nested_file_and_folder(
    http: httpx.Client, hub_sim_factory: Callable[..., HubSimulator]
) -> None:
    sim = hub_sim_factory(tree_page_size=1000)
    repo = _nested(sim)
    entries = http.get(f"{sim.url}/api/models/{repo.id}/tree/main", params={"recursive": "true"}).json()
    files = {e["path"]: e for e in entries if e["type"] == "file"}
    assert set(files) == {f.path for f in repo.files}
    for hub_file in repo.files:
        assert files[hub_file.path]["size"] == hub_file.size
        assert files[hub_file.path]["oid"] == hub_file.oid
        if hub_file.is_lfs:
            assert files[hub_file.path]["lfs"] == {
                "oid": hub_file.lfs_sha256,
                "size": hub_file.size,
                "pointerSize": hub_file.pointer_size,
            }
    assert any(e["type"] == "directory" for e in entries)


def test_tree_paginates_with_a_link_cursor(
    http: httpx.Client, hub_sim_factory: Callable[..., HubSimulator]
) -> None:
    sim = hub_sim_factory(tree_page_size=3)
    repo = max(sim.state, key=lambda r: len(r.files))
    url, paths, pages = f"{sim.url}/api/models/{repo.id}/tree/main?recursive=1", [], 0
    while url:
        response = http.get(url)
        assert len(response.json()) <= 3
        paths += [entry["path"] for entry in response.json() if entry["type"] == "file"]
        pages += 1
        url = response.links.get("next", {}).get("url")
    assert pages > 3
    assert sorted(paths) == sorted(f.path for f in repo.files)


def test_tree_of_a_subfolder_accepts_an_encoded_path(http: httpx.Client, hub_sim: HubSimulator) -> None:
    repo = _nested(hub_sim)
    folder = next(f.path for f in repo.files if "/" in f.path).split("/")[0]
    entries = http.get(f"{hub_sim.url}/api/models/{repo.id}/tree/main/{quote(folder, safe='')}").json()
    assert {e["path"] for e in entries} == {f.path for f in repo.files if f.path.startswith(f"{folder}/")}


def test_tree_of_a_missing_folder_is_a_404_entry_not_found(http: httpx.Client, hub_sim: HubSimulator) -> None:
    repo = _nested(hub_sim)
    response = http.get(f"{hub_sim.url}/api/models/{repo.id}/tree/main/no-such-folder")
    assert response.status_code == 404
    assert response.headers["X-Error-Code"] == "EntryNotFound"


def test_small_file_is_served_directly_with_its_git_etag_and_commit(
    http: httpx.Client, hub_sim: HubSimulator
) -> None:
    repo = next(r for r in hub_sim.state if r.file("README.md") and not r.gated)
    response = http.get(f"{hub_sim.url}/{repo.id}/resolve/main/README.md")
    assert response.status_code == 200
    assert response.content == repo.file("README.md").content
    blob_id = hashlib.sha1(b"blob %d\0" % len(response.content) + response.content).hexdigest()
    assert response.headers["ETag"] == f'"{blob_id}"'
    assert response.headers["X-Repo-Commit"] == repo.sha
    assert int(response.headers["Content-Length"]) == len(response.content)


def test_readme_front_matter_matches_card_data(http: httpx.Client, hub_sim: HubSimulator) -> None:
    repo = next(r for r in hub_sim.state if r.card_data and r.file("README.md") and not r.gated)
    text = http.get(f"{hub_sim.url}/{repo.id}/resolve/main/README.md").text
    assert yaml.safe_load(text.split("---")[1]) == repo.card_data


def test_lfs_file_redirects_to_the_cdn_host(http: httpx.Client, hub_sim: HubSimulator) -> None:
    repo = _with_gguf(hub_sim)
    hub_file = repo.file(_lfs_path(repo))
    response = http.get(f"{hub_sim.url}/{repo.id}/resolve/main/{hub_file.path}")
    assert response.status_code == 302
    location = httpx.URL(response.headers["Location"])
    assert location.host == "127.0.0.2"
    assert str(location).startswith(hub_sim.cdn_url)
    assert response.headers["X-Linked-Etag"] == f'"{hub_file.lfs_sha256}"'
    assert response.headers["X-Linked-Size"] == str(hub_file.size)
    assert response.headers["X-Repo-Commit"] == repo.sha
    assert response.headers["ETag"] == f'"{hub_file.oid}"'


def test_head_on_an_lfs_file_carries_the_same_metadata(http: httpx.Client, hub_sim: HubSimulator) -> None:
    repo = _with_gguf(hub_sim)
    path = _lfs_path(repo)
    get = http.get(f"{hub_sim.url}/{repo.id}/resolve/main/{path}")
    head = http.head(f"{hub_sim.url}/{repo.id}/resolve/main/{path}")
    for name in ("Location", "X-Linked-Etag", "X-Linked-Size", "X-Repo-Commit", "ETag"):
        assert head.headers[name] == get.headers[name]


def test_cdn_serves_a_byte_range_with_206(http: httpx.Client, hub_sim: HubSimulator) -> None:
    repo = _with_gguf(hub_sim)
    hub_file = repo.file(_lfs_path(repo))
    location = http.head(f"{hub_sim.url}/{repo.id}/resolve/main/{hub_file.path}").headers["Location"]
    response = http.get(location, headers={"Range": "bytes=0-7"})
    assert response.status_code == 206
    assert response.content[:4] == b"GGUF"
    assert len(response.content) == 8
    assert response.headers["Content-Range"] == f"bytes 0-7/{hub_file.size}"


def test_cdn_serves_a_suffix_range_of_filler(http: httpx.Client, hub_sim: HubSimulator) -> None:
    repo = _with_gguf(hub_sim)
    hub_file = repo.file(_lfs_path(repo))
    location = http.head(f"{hub_sim.url}/{repo.id}/resolve/main/{hub_file.path}").headers["Location"]
    response = http.get(location, headers={"Range": "bytes=-16"})
    assert response.status_code == 206
    assert response.content == bytes(16)
    size = hub_file.size
    assert response.headers["Content-Range"] == f"bytes {size - 16}-{size - 1}/{size}"


def test_cdn_answers_416_to_a_range_beyond_the_end(http: httpx.Client, hub_sim: HubSimulator) -> None:
    repo = _with_gguf(hub_sim)
    hub_file = repo.file(_lfs_path(repo))
    location = http.head(f"{hub_sim.url}/{repo.id}/resolve/main/{hub_file.path}").headers["Location"]
    response = http.get(location, headers={"Range": f"bytes={hub_file.size}-"})
    assert response.status_code == 416
    assert response.headers["Content-Range"] == f"bytes */{hub_file.size}"


def test_cdn_head_reports_the_full_size_without_building_the_header(
    http: httpx.Client, hub_sim: HubSimulator
) -> None:
    repo = _with_gguf(hub_sim)
    hub_file = repo.file(_lfs_path(repo))
    location = http.head(f"{hub_sim.url}/{repo.id}/resolve/main/{hub_file.path}").headers["Location"]
    response = http.head(location)
    assert response.status_code == 200
    assert int(response.headers["Content-Length"]) == hub_file.size
    assert response.headers["Accept-Ranges"] == "bytes"
    assert hub_sim.gguf_headers.builds == 0


def test_sizes_agree_across_tree_info_redirect_and_cdn(http: httpx.Client, hub_sim: HubSimulator) -> None:
    repo = _with_gguf(hub_sim)
    path = _lfs_path(repo)
    tree = http.get(f"{hub_sim.url}/api/models/{repo.id}/tree/main", params={"recursive": True}).json()
    info = http.get(f"{hub_sim.url}/api/models/{repo.id}", params={"blobs": True}).json()
    redirect = http.head(f"{hub_sim.url}/{repo.id}/resolve/main/{path}")
    cdn = http.head(redirect.headers["Location"])
    sizes = {
        next(e["size"] for e in tree if e["path"] == path),
        next(e["lfs"]["size"] for e in tree if e["path"] == path),
        next(s["size"] for s in info["siblings"] if s["rfilename"] == path),
        int(redirect.headers["X-Linked-Size"]),
        int(cdn.headers["Content-Length"]),
    }
    assert sizes == {repo.file(path).size}


def test_gated_repo_metadata_and_tree_are_public(http: httpx.Client, hub_sim: HubSimulator) -> None:
    repo = _with_gguf(hub_sim, gated=True)
    info = http.get(f"{hub_sim.url}/api/models/{repo.id}").json()
    assert info["gated"] in ("auto", "manual")
    assert http.get(f"{hub_sim.url}/api/models/{repo.id}/tree/main").status_code == 200


def test_gated_repo_download_without_token_is_a_401_gated_repo(
    http: httpx.Client, hub_sim: HubSimulator
) -> None:
    repo = _with_gguf(hub_sim, gated=True)
    response = http.get(f"{hub_sim.url}/{repo.id}/resolve/main/.gitattributes")
    assert response.status_code == 401
    assert response.headers["X-Error-Code"] == "GatedRepo"
    assert "restricted" in response.json()["error"]


def test_gated_repo_download_with_any_token_is_allowed(http: httpx.Client, hub_sim: HubSimulator) -> None:
    repo = _with_gguf(hub_sim, gated=True)
    response = http.get(
        f"{hub_sim.url}/{repo.id}/resolve/main/.gitattributes",
        headers={"Authorization": "Bearer hf_anything"},
    )
    assert response.status_code == 200


def test_accepted_tokens_can_be_restricted(
    http: httpx.Client, hub_sim_factory: Callable[..., HubSimulator]
) -> None:
    sim = hub_sim_factory(tokens={"hf_good"})
    repo = _with_gguf(sim, gated=True)
    url = f"{sim.url}/{repo.id}/resolve/main/.gitattributes"
    assert http.get(url, headers={"Authorization": "Bearer hf_good"}).status_code == 200
    rejected = http.get(url, headers={"Authorization": "Bearer hf_bad"})
    assert rejected.status_code == 401
    assert rejected.headers["X-Error-Message"] == "Invalid credentials in Authorization header"


def test_unknown_file_is_a_404_entry_not_found_with_the_commit(
    http: httpx.Client, hub_sim: HubSimulator
) -> None:
    repo = _with_gguf(hub_sim)
    response = http.get(f"{hub_sim.url}/{repo.id}/resolve/main/missing.gguf")
    assert response.status_code == 404
    assert response.headers["X-Error-Code"] == "EntryNotFound"
    assert response.headers["X-Repo-Commit"] == repo.sha


def test_resolve_at_an_unknown_revision_is_a_404_revision_not_found(
    http: httpx.Client, hub_sim: HubSimulator
) -> None:
    repo = _with_gguf(hub_sim)
    response = http.get(f"{hub_sim.url}/{repo.id}/resolve/nope/README.md")
    assert response.status_code == 404
    assert response.headers["X-Error-Code"] == "RevisionNotFound"


def test_unknown_cdn_object_is_a_404(http: httpx.Client, hub_sim: HubSimulator) -> None:
    assert http.get(f"{hub_sim.cdn_url}/lfs/{'0' * 64}").status_code == 404
