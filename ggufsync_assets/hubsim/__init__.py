"""A faithful local stand-in for the Hugging Face Hub HTTP API, served on loopback only.

Tests, the demo and benchmarks point huggingface_hub (or any HTTP client) at `HubSimulator.url`
instead of the real Hub: seeded synthetic GGUF repos, real GGUF headers, LFS redirects to a
separate CDN host, Hub-style rate limits and injectable faults.

    with HubSimulator(repos=500, seed=1, page_size=100, broken_tree_share=0.01) as sim:
        api = HfApi(endpoint=sim.url)
        models = list(api.list_models(filter="gguf", expand=["gguf", "sha", "siblings"]))
        sim.faults.script("error", count=2, status=503, path_prefix="/api/models")
        sim.edit(models[0].id)             # new sha and lastModified, files changed
        truth = sim.state.repos()           # what a full sync should have found
        broken = sim.state.broken_trees()   # repos whose file tree always answers 500
        served = sim.requests               # what was asked, what was answered

Routes: `GET /api/models`, `GET /api/models/{repo}[/revision/{rev}]`,
`GET /api/models/{repo}/tree/{rev}[/{path}]`, `GET|HEAD /{repo}/resolve/{rev}/{path}` on the API
host, and `GET|HEAD /lfs/{sha256}` on the CDN host.

`realism=Realism(...)` sets how many repos lack a license, a card, readable file names, ...
(docs/simulator.md explains the realistic defaults; `Realism.tidy()` leaves only the planted edge cases).

Inside: `generator` draws `repos` and their `files` from `families` and `publishers`, messy at the
`realism` shares; `hub_state` holds them and applies mutations; `query` and `payloads` shape the
answers, `app` routes requests and `server` serves them over HTTP.
"""

from ggufsync_assets.hubsim.faults import Fault, FaultInjector, FaultKind
from ggufsync_assets.hubsim.files import HubFile, gguf_file, lfs_file, small_file
from ggufsync_assets.hubsim.gguf_files import GGUFSpec, build_header, tensor_data_length
from ggufsync_assets.hubsim.hub_state import HubState
from ggufsync_assets.hubsim.ratelimit import RateLimiter, RateLimitPolicy
from ggufsync_assets.hubsim.realism import Realism
from ggufsync_assets.hubsim.repos import Repo, hub_timestamp
from ggufsync_assets.hubsim.requestlog import RequestRecord
from ggufsync_assets.hubsim.server import HubSimulator, require_loopback

__all__ = [
    "Fault",
    "FaultInjector",
    "FaultKind",
    "GGUFSpec",
    "HubFile",
    "HubSimulator",
    "HubState",
    "RateLimitPolicy",
    "RateLimiter",
    "Realism",
    "Repo",
    "RequestRecord",
    "build_header",
    "gguf_file",
    "hub_timestamp",
    "lfs_file",
    "require_loopback",
    "small_file",
    "tensor_data_length",
]
