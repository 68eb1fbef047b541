"""What a repo's weights files really are: their GGUF headers, read over HTTP Range requests.

Only a prefix of a file is fetched, never the multi-gigabyte whole, and of the header only what the
catalogue needs: the model's facts come before the tokenizer, whose token list, merges and chat
template are nearly all of a header's 0.5-6 MB, so a read stops at the token list (see
gguf/header.py: parse_header). Split parts are read whole: gguf-split appends their split.* keys
after the tokenizer. The first read asks for what most reads of this sync needed (FirstReads;
HEADER_FIRST_READ until a few are known): most take one Range request. A read that falls short
grows the range to half again what the parser expects the header to need, never past
gguf_headers.max_bytes. The resolve URL redirects to the CDN; the client follows it within
security.allowed_domains and sends the token to the Hub host only.

A whole header's walk is pure Python over every string of its tokenizer (20-30 ms for 150,000
tokens) and runs on the event loop; stopping at the token list leaves that only to split parts.
"""

from __future__ import annotations

import dataclasses
import logging
import statistics
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl

from ggufsync_assets.catalogue.contract import HEADER_FRAME
from ggufsync_assets.gguf.header import GgufHeader, GgufHeaderError, parse_header
from ggufsync_assets.gguf.memory import kv_bytes_per_token
from ggufsync_assets.gguf.names import GGUF_SUFFIX
from ggufsync_assets.hub.client import HubClient
from ggufsync_assets.hub.errors import HubError, HubResponseError
from ggufsync_assets.sync.records import INT64_MAX

log = logging.getLogger("ggufsync.sync")

HEADER_FIRST_READ = 64 * 1024
"""The model's facts before a tokenizer take a few KiB (more with a long licence or tag list)."""
LEARNED_FROM = 10
"""Headers read before their sizes set the first read."""
FIRST_READ_MARGIN = 1.1
GGUF_PREAMBLE = 24
"""Magic, version, tensor count and key count: a file shorter than this has no header to ask for
(a Range request beyond an empty file's end would get 416)."""
NO_ACCESS = (401, 403)
"""A gated repo we may not read: unreadable for us, not broken."""


@dataclass(frozen=True)
class HeaderRead:
    """One file's header read: the header (complete unless `error` says otherwise), its cost, and
    why it could not be read. `denied`: the file may not be read with our credentials."""

    path: str
    header: GgufHeader | None
    bytes_read: int
    requests: int
    error: str | None = None
    denied: bool = False


def header_targets(files: list[dict[str, Any]], *, every_logical_file: bool) -> list[dict[str, Any]]:
    """The weights files whose header is read: the first part of each logical file (projectors and
    importance matrices excluded), in path order; only the first of them unless `every_logical_file`."""
    firsts = sorted(
        (f for f in files if not (f["is_mmproj"] or f["is_imatrix"]) and f["split_index"] in (None, 1)),
        key=lambda f: f["path"],
    )
    return firsts if every_logical_file else firsts[:1]


def split_by_gguf_split(file: dict[str, Any]) -> bool:
    """A part written by llama.cpp's gguf-split (`-00001-of-00003.gguf`), whose header carries split.*
    keys; a part cut with `split` (`.gguf-split-a`, `.gguf.part1of2`: no .gguf suffix) is plain
    bytes, its first part a whole file's header."""
    return file["split_count"] is not None and file["path"].lower().endswith(GGUF_SUFFIX)


class FirstReads:
    """The first read's length: the 90th percentile of what the last 200 complete reads needed, plus 10 %."""

    def __init__(self) -> None:
        self._sizes: deque[int] = deque(maxlen=200)

    def length(self) -> int:
        if len(self._sizes) < LEARNED_FROM:
            return HEADER_FIRST_READ
        usual = statistics.quantiles(self._sizes, n=10)[-1]
        return max(HEADER_FIRST_READ, round(usual * FIRST_READ_MARGIN))

    def add(self, header_size: int) -> None:
        self._sizes.append(header_size)


@dataclass
class HeaderReader:
    """Reads the headers of one sync, learning from each how much the next first read should ask for."""

    client: HubClient
    max_bytes: int
    first_reads: FirstReads = field(default_factory=FirstReads)

    async def read(
        self,
        repo_id: str,
        sha: str,
        path: str,
        *,
        size: int | None,
        whole: bool = False,
        file_type_needed: bool = False,
    ) -> HeaderRead:
        """The header of `path` at commit `sha`, in as few Range requests as its size allows: up to the
        tokenizer's token list when the model's facts come before it, all of it when `whole` (or
        when they do not). With `file_type_needed` (a name that says no quantization), a header whose
        general.file_type is not before its tokenizer is read on to it: llama-quantize since 2025
        writes that key last."""
        if size is not None and size < GGUF_PREAMBLE:
            return HeaderRead(path, None, 0, 0, f"not a readable GGUF header: the file holds {size} bytes")
        limit = min(size, self.max_bytes) if size is not None else self.max_bytes
        length, bytes_read, requests = min(self.first_reads.length(), limit), 0, 0
        stop_at_tokenizer = not whole
        while True:
            try:
                data = await self.client.read_range(repo_id, path, 0, length - 1, revision=sha)
            except HubResponseError as exc:
                if exc.status in NO_ACCESS:
                    return HeaderRead(path, None, bytes_read, requests + 1, denied=True)
                return HeaderRead(path, None, bytes_read, requests + 1, f"could not be fetched: {exc}")
            except HubError as exc:
                return HeaderRead(path, None, bytes_read, requests + 1, f"could not be fetched: {exc}")
            requests, bytes_read = requests + 1, bytes_read + len(data)
            try:
                parsed = parse_header(data, stop_at_tokenizer=stop_at_tokenizer)
                if (
                    stop_at_tokenizer
                    and file_type_needed
                    and parsed.header_complete
                    and parsed.file_type is None
                ):
                    stop_at_tokenizer = False
                    parsed = parse_header(data, stop_at_tokenizer=False)
            except GgufHeaderError as exc:
                return HeaderRead(path, None, bytes_read, requests, f"not a readable GGUF header: {exc}")
            if parsed.header_complete:
                # Only reads that stop at the tokenizer teach the first read: a whole header is
                # megabytes, which every other read would then ask for.
                if stop_at_tokenizer and (needed := parsed.stopped_at or parsed.kv_end) is not None:
                    self.first_reads.add(needed)
                return HeaderRead(path, parsed, bytes_read, requests)
            if len(data) < length or (size is not None and length >= size):
                return HeaderRead(path, parsed, bytes_read, requests, "the file ends inside its header")
            if length >= self.max_bytes:
                return HeaderRead(
                    path,
                    parsed,
                    bytes_read,
                    requests,
                    f"header larger than gguf_headers.max_bytes ({self.max_bytes} bytes)",
                )
            likely = parsed.bytes_likely or parsed.bytes_needed or 0
            length = min(limit, max(length + HEADER_FIRST_READ, likely + likely // 2))


RENAMED = {"version": "gguf_version", "quantization": "file_type_label"}
"""GgufHeader fields whose gguf_headers column has another name; the others share theirs."""


def _largest(dtype: pl.DataType | type[pl.DataType]) -> int | None:
    """The largest value an integer column holds (every count, length and type a header states is
    zero or more); None for other columns."""
    if dtype == pl.Int32:
        return 2**31 - 1
    return INT64_MAX if dtype == pl.Int64 else None


def header_row(repo_id: str, read: HeaderRead, now: datetime) -> dict[str, Any]:
    """The gguf_headers row of a read (contract.GGUF_HEADERS). A fact no column can hold (a negative
    length, a 64-bit context length past the largest BIGINT) is stored as unknown and logged, so
    one odd upload costs its own fact, not its chunk's write."""
    facts: dict[str, Any] = {}
    if read.header is not None:
        named = {RENAMED.get(name, name): value for name, value in dataclasses.asdict(read.header).items()}
        facts = {name: value for name, value in named.items() if name in HEADER_FRAME}
        per_token = kv_bytes_per_token(read.header)
        facts["kv_bytes_per_token"] = round(per_token) if per_token is not None else None
        for name, value in facts.items():
            largest = _largest(HEADER_FRAME[name])
            if largest is not None and value is not None and not 0 <= value <= largest:
                log.warning(
                    "%s/%s: header fact %s = %d is out of range; stored as unknown",
                    repo_id,
                    read.path,
                    name,
                    value,
                )
                facts[name] = None
    return {
        "repo_id": repo_id,
        "path": read.path,
        **facts,
        "bytes_read": read.bytes_read,
        "range_requests": read.requests,
        "error": read.error,
        "read_at": now,
    }
