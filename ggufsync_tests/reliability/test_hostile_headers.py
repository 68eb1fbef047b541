"""Hostile GGUF bytes through the files step: whatever a .gguf file starts with, the header read ends
with the file's facts or a reject saying why, never a crash, a hang, or a read past the cap.

Hypothesis breaks a real header (written by llama.cpp's GGUFWriter) the ways a bad upload or a
malicious one could: cut short, bytes flipped, a length or count overwritten with a huge number,
garbage appended. The simulator serves the bytes as a repo's only .gguf file; the files step reads
it with a real HubClient into a real catalogue.
"""

from __future__ import annotations

import os
import struct
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ggufsync_assets.catalogue.store import CatalogueStore
from ggufsync_assets.hubsim import HubSimulator, small_file
from ggufsync_tests.gguf import write_gguf
from ggufsync_tests.gguf.test_header import tiny_llama
from ggufsync_tests.sync.conftest import Sync, settings_for

EXAMPLES = int(os.environ.get("SOAK_EXAMPLES", "15"))
"""Examples per property: 15 in the suite, more under `make soak`."""
CAP = 256 * 1024
"""gguf_headers.max_bytes here: the smallest allowed, so a hostile length meets it quickly."""
REPO = "someone/Hostile-GGUF"
PATH = "model-Q4_K_M.gguf"


def _real_header() -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        return write_gguf(Path(folder) / "tiny.gguf", tiny_llama).data


REAL = _real_header()


@st.composite
def hostile(draw: st.DrawFn) -> bytes:
    data = bytearray(REAL)
    for _ in range(draw(st.integers(0, 4))):
        where = draw(st.integers(0, len(data) - 1))
        kind = draw(st.sampled_from(["flip", "huge", "cut", "append"]))
        if kind == "flip":
            data[where] ^= draw(st.integers(1, 255))
        elif kind == "huge" and where + 8 <= len(data):
            data[where : where + 8] = struct.pack(
                "<Q", draw(st.sampled_from([2**32, 2**40, 2**63, 2**64 - 1]))
            )
        elif kind == "cut":
            del data[where:]
        elif kind == "append":
            data += draw(st.binary(min_size=1, max_size=64))
        if not data:
            data = bytearray(b"G")
    return bytes(data)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile())
def test_hostile_header_bytes_end_in_facts_or_a_reject_with_a_reason(data: bytes) -> None:
    with (
        HubSimulator(repos=0, api_quota=1_000_000, resolvers_quota=1_000_000) as sim,
        tempfile.TemporaryDirectory() as folder,
    ):
        sim.add(REPO, tags=("gguf",), files=[small_file(PATH, data)], gated=False)
        sync = Sync(
            sim,
            CatalogueStore(Path(folder) / "catalogue.duckdb"),
            settings_for(sim, gguf_headers={"read": True, "max_bytes": CAP}),
        )
        sync.list()
        sync.refresh()
        [(error, bytes_read)] = sync.rows("SELECT error, bytes_read FROM gguf_headers")
        rejects = sync.rows("SELECT reason FROM rejected_records")
    assert bytes_read <= min(len(data), CAP)
    if error is None:
        assert rejects == []
    else:
        assert rejects == [(f"GGUF header of {PATH}: {error}",)]
