"""Files of simulated repos, and the git and LFS hashes the Hub reports for them.

Small (non-LFS) files have real content and their real git blob id. LFS files are virtual (header
plus filler up to a multi-gigabyte size), so their `sha256` is a deterministic stand-in derived from
the repo, path and size, not the digest of the served bytes; their git oid is the real blob id of the
LFS pointer file that git would store for that sha256 and size.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ggufsync_assets.hubsim.families import FAMILIES_BY_BASE_MODEL, quantization
from ggufsync_assets.hubsim.gguf_files import GGUFSpec


def git_blob_oid(data: bytes) -> str:
    """The id git gives a blob with this content."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    """The pointer file git stores in place of an LFS object."""
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


@dataclass(frozen=True, slots=True)
class HubFile:
    """One file of a repo revision.

    Small files carry their real `content`. LFS files carry an `lfs_key` naming the stored object
    and are served as their GGUF header (`gguf`, if any) followed by zero filler up to `size`;
    their hashes are derived on access, which keeps building thousands of repos cheap.
    """

    path: str
    size: int
    content: bytes | None = None
    lfs_key: str | None = None
    gguf: GGUFSpec | None = None

    @property
    def is_lfs(self) -> bool:
        return self.lfs_key is not None

    @property
    def lfs_sha256(self) -> str | None:
        """Stand-in sha256 of the LFS object: same key, path and size, same object."""
        if self.lfs_key is None:
            return None
        return hashlib.sha256(f"{self.lfs_key}\0{self.path}\0{self.size}".encode()).hexdigest()

    @property
    def oid(self) -> str:
        """Git blob id: of the content for small files, of the LFS pointer for LFS files."""
        if self.content is not None:
            return git_blob_oid(self.content)
        return git_blob_oid(lfs_pointer(self.lfs_sha256 or "", self.size))

    @property
    def pointer_size(self) -> int:
        """Size of the LFS pointer file git stores for this object."""
        return len(lfs_pointer(self.lfs_sha256 or "", self.size))


def small_file(path: str, content: bytes | str) -> HubFile:
    """A regular git file with real content (README.md, config.json, .gitattributes)."""
    data = content.encode() if isinstance(content, str) else content
    return HubFile(path=path, size=len(data), content=data)


def lfs_file(path: str, size: int, *, key: str, gguf: GGUFSpec | None = None) -> HubFile:
    """A virtual LFS file; `key` identifies the stored object (same key and size, same sha256)."""
    return HubFile(path=path, size=size, lfs_key=key, gguf=gguf)


def gguf_file(
    path: str,
    base_model: str = "Qwen/Qwen2.5-7B-Instruct",
    quant: str = "Q4_K_M",
    *,
    split: tuple[int, int] = (0, 1),
    size: int | None = None,
    file_type_last: bool = False,
) -> HubFile:
    """A .gguf file for hand-built repos: a realistic size for `base_model` at `quant` unless given;
    `file_type_last` lays its header out as llama-quantize has since 2025 (GGUFSpec)."""
    family = FAMILIES_BY_BASE_MODEL[base_model]
    whole = round(family.parameters * quantization(quant).bits_per_weight / 8) + (32 << 20)
    name = family.name.replace("-", " ")
    spec = GGUFSpec(family, quant, name, "model", split[0], split[1], file_type_last=file_type_last)
    return lfs_file(path, size or whole // split[1], key=f"manual:{base_model}:{quant}", gguf=spec)
