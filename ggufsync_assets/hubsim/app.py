"""Request handling of the simulated Hub: routes, Hub error conventions, rate limits and faults.

Transport-agnostic: `HubApp.handle` turns a `Request` into a `Response`, and the HTTP server
(`server.py`) writes it, applying the socket-level faults (slow, drop, truncate) the response carries.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from ggufsync_assets.hubsim.faults import Fault, FaultInjector, FaultKind
from ggufsync_assets.hubsim.files import HubFile
from ggufsync_assets.hubsim.gguf_files import HeaderCache, LazyHeader, iter_content
from ggufsync_assets.hubsim.hub_state import HubState
from ggufsync_assets.hubsim.payloads import (
    EXPANDABLE,
    INFO_FIELDS,
    LISTING_FIELDS,
    LISTING_FULL_FIELDS,
    model_payload,
    tree_payload,
)
from ggufsync_assets.hubsim.query import (
    SORTS,
    ListingParams,
    QueryError,
    list_page,
    tree_entries,
    tree_page,
)
from ggufsync_assets.hubsim.ratelimit import RateLimiter
from ggufsync_assets.hubsim.repos import Repo

_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)
_TRUE = ("true", "1")
_CONTENT_TYPES = {".md": "text/markdown; charset=utf-8", ".json": "application/json; charset=utf-8"}


@dataclass(frozen=True, slots=True)
class Request:
    """An HTTP request as the app needs it; `headers` has lower-case names."""

    host: str
    method: str
    target: str
    headers: Mapping[str, str]
    client: str
    base_url: str

    @property
    def token(self) -> str | None:
        scheme, _, token = self.headers.get("authorization", "").partition(" ")
        return (token.strip() or None) if scheme.lower() == "bearer" else None


@dataclass(frozen=True, slots=True)
class Body:
    """`length` bytes from offset `start` of a file made of `prefix()` followed by zero filler;
    `prefix` is only called when the bytes are actually sent (never for HEAD), and a header's
    token arrays only generated as far as the bytes sent reach."""

    length: int
    prefix: Callable[[], bytes | LazyHeader]
    start: int = 0

    @classmethod
    def of(cls, data: bytes) -> Body:
        return cls(len(data), lambda: data)

    def chunks(self) -> Iterator[bytes]:
        return iter_content(self.prefix(), self.start, self.start + self.length)


EMPTY = Body.of(b"")


@dataclass(slots=True)
class Response:
    """What to answer; `payload` is the JSON document behind a 200 body (what a malformed-record
    fault breaks), `fault` a socket-level fault for the server to apply while sending, and `broken`
    marks a permanent failure that injected faults leave alone (and do not count)."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: Body = EMPTY
    payload: Any = None
    fault: Fault | None = None
    broken: bool = False


@dataclass(frozen=True, slots=True)
class ServiceOptions:
    """Knobs of the API's behaviour. `tokens`: accepted tokens, None accepts any non-empty one."""

    page_size: int = 1000
    max_page_size: int = 1000
    tree_page_size: int = 50
    tokens: frozenset[str] | None = None
    retry_after: bool = True


class _Params:
    """Query parameters, keeping repeats and order (filter= and expand= repeat)."""

    def __init__(self, pairs: Sequence[tuple[str, str]]) -> None:
        self.pairs = list(pairs)

    def all(self, *names: str) -> list[str]:
        return [value for key, value in self.pairs if key in names]

    def one(self, name: str) -> str | None:
        values = self.all(name)
        return values[-1] if values else None

    def flag(self, name: str) -> bool:
        return (self.one(name) or "").lower() in _TRUE

    def link(self, base: str, cursor: str) -> str:
        pairs = [(k, v) for k, v in self.pairs if k != "cursor"] + [("cursor", cursor)]
        return f'<{base}?{urlencode(pairs)}>; rel="next"'


def json_response(status: int, payload: Any, headers: Sequence[tuple[str, str]] = ()) -> Response:
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(
        status, [("Content-Type", "application/json; charset=utf-8"), *headers], Body.of(data), payload
    )


def error_response(
    status: int, message: str, code: str | None = None, headers: Sequence[tuple[str, str]] = ()
) -> Response:
    """A Hub error: JSON `{"error": ...}` plus the X-Error-* headers huggingface_hub maps to
    exception types."""
    extra = [("X-Error-Code", code)] if code else []
    return json_response(status, {"error": message}, [*extra, ("X-Error-Message", message), *headers])


def _repo_not_found() -> Response:
    return error_response(401, "Repository not found", "RepoNotFound")


def _broken_tree() -> Response:
    """The Hub's answer when its backend fails on a repo's tree, every time."""
    response = error_response(500, "Internal Error - We're working hard to fix this as soon as possible!")
    response.broken = True
    return response


def _content_response(
    headers: list[tuple[str, str]],
    size: int,
    prefix: Callable[[], bytes | LazyHeader],
    range_header: str | None,
) -> Response:
    """200 with the whole file, 206 with the requested single range, or 416 if it is out of bounds.
    Range headers this does not understand (several ranges, bad syntax) are ignored, as RFC 9110
    allows."""
    headers = [*headers, ("Accept-Ranges", "bytes")]
    match = _RANGE.match(range_header or "")
    if match and (match.group(1) or match.group(2)):
        first, last = match.group(1), match.group(2)
        if first:
            start, end = int(first), min(int(last), size - 1) if last else size - 1
        else:
            start, end = max(size - int(last), 0), size - 1
        if start >= size or (not first and int(last) == 0):
            return error_response(
                416,
                "Requested range not satisfiable",
                headers=[*headers, ("Content-Range", f"bytes */{size}")],
            )
        if start <= end:
            return Response(
                206,
                [*headers, ("Content-Range", f"bytes {start}-{end}/{size}")],
                Body(end - start + 1, prefix, start),
            )
    return Response(200, headers, Body(size, prefix))


def _corrupt(payload: Any, pick: int) -> Any:
    """The same document with one record broken: a missing key or a value of the wrong type."""
    records = payload if isinstance(payload, list) else [payload]
    index = pick % len(records)
    victim = dict(records[index])
    if "path" in victim:
        if pick // len(records) % 2:
            victim["size"] = "unknown"
        else:
            del victim["path"]
    elif pick // len(records) % 2:
        victim["lastModified"] = 1_700_000_000
    else:
        victim.pop("id", None)
    if not isinstance(payload, list):
        return victim
    return [*records[:index], victim, *records[index + 1 :]]


@dataclass(frozen=True, slots=True)
class _Call:
    """One request being routed: what every handler needs to know about it."""

    request: Request
    path: str
    params: _Params
    authorized: bool


class HubApp:
    """The API host (`/api/...`, `/{repo}/resolve/...`) and the CDN host (`/lfs/{sha256}`)."""

    def __init__(
        self,
        state: HubState,
        *,
        limiter: RateLimiter,
        faults: FaultInjector,
        headers: HeaderCache,
        options: ServiceOptions,
        cdn_url: Callable[[], str],
    ) -> None:
        self.state = state
        self.limiter = limiter
        self.faults = faults
        self.header_cache = headers
        self.options = options
        self._cdn_url = cdn_url
        self._after: list[tuple[str, Callable[[], None]]] = []
        self._after_lock = threading.Lock()

    def after_serving(self, path_prefix: str, action: Callable[[], None]) -> None:
        """Run `action` once, right after the next API answer to a path starting with `path_prefix`
        is made (before it is sent): the Hub changing while a client pages through it."""
        with self._after_lock:
            self._after.append((path_prefix, action))

    def _run_after(self, path: str) -> None:
        with self._after_lock:
            due = next((entry for entry in self._after if path.startswith(entry[0])), None)
            if due is not None:
                self._after.remove(due)
        if due is not None:
            due[1]()

    def handle(self, request: Request) -> Response:
        split = urlsplit(request.target)
        segments = [unquote(part) for part in split.path.split("/")[1:]]
        resolving = request.host == "cdn" or segments[2:3] == ["resolve"]
        token = request.token
        client = (
            f"token:{hashlib.sha256(token.encode()).hexdigest()[:16]}" if token else f"ip:{request.client}"
        )
        decision = self.limiter.hit("resolvers" if resolving else "api", client)
        limit_headers = decision.headers(self.options.retry_after)
        if not decision.allowed:
            return error_response(
                429, "You have exceeded our rate limit. Please retry later.", headers=limit_headers
            )
        call = _Call(
            request, split.path, _Params(parse_qsl(split.query, keep_blank_values=True)), token is not None
        )
        if token and self.options.tokens is not None and token not in self.options.tokens:
            response = error_response(401, "Invalid credentials in Authorization header")
        elif request.method not in ("GET", "HEAD"):
            response = error_response(405, "Method not allowed")
        elif request.host == "cdn":
            response = self._cdn(call, segments)
        else:
            response = self._api(call, segments)
            self._run_after(split.path)
        response.headers.extend(limit_headers)
        return self._with_fault(call, response, limit_headers)

    def _with_fault(self, call: _Call, response: Response, limit_headers: list[tuple[str, str]]) -> Response:
        if response.broken:
            return response
        applicable = {FaultKind.ERROR, FaultKind.SLOW, FaultKind.DROP}
        if call.request.method != "HEAD" and response.body.length >= 2:
            applicable.add(FaultKind.TRUNCATE)
        if response.payload and response.status == 200:
            applicable.add(FaultKind.MALFORMED)
        fault = self.faults.decide(call.request.host, call.path, applicable, call.params.pairs)
        if fault is None:
            return response
        if fault.kind is FaultKind.ERROR:
            response = error_response(fault.status, "Internal Error", headers=limit_headers)
        elif fault.kind is FaultKind.MALFORMED:
            headers = [(k, v) for k, v in response.headers if k != "Content-Type"]
            response = json_response(response.status, _corrupt(response.payload, fault.pick), headers)
        response.fault = fault
        return response

    def _api(self, call: _Call, segments: list[str]) -> Response:
        if segments[:2] == ["api", "models"]:
            if len(segments) == 2:
                return self._listing(call)
            if len(segments) == 3:
                return _repo_not_found()
            repo_id, rest = "/".join(segments[2:4]), segments[4:]
            if not rest:
                return self._info(call, repo_id, "main")
            if rest[0] == "revision" and len(rest) == 2:
                return self._info(call, repo_id, rest[1])
            if rest[0] == "tree" and len(rest) >= 2:
                return self._tree(call, repo_id, rest[1], "/".join(rest[2:]))
        elif len(segments) >= 5 and segments[2] == "resolve":
            return self._resolve(call, "/".join(segments[:2]), segments[3], "/".join(segments[4:]))
        elif len(segments) >= 4 and segments[1] == "resolve":
            return _repo_not_found()
        return error_response(404, "Sorry, we can't find the page you are looking for.")

    def _visible(self, call: _Call, repo_id: str) -> Repo | None:
        repo = self.state.get(repo_id)
        if repo is None or (repo.private and not call.authorized):
            return None
        return repo

    def _expand(self, call: _Call) -> list[str] | Response:
        """The `expand` properties, or the 400 the Hub gives for a bad combination or property."""
        expand = call.params.all("expand", "expand[]")
        if expand and any(call.params.flag(name) for name in ("full", "cardData", "config")):
            return error_response(400, "expand cannot be combined with full, cardData or config")
        unknown = sorted(set(expand) - EXPANDABLE)
        if unknown:
            return error_response(400, f'"expand" contains unknown properties: {", ".join(unknown)}')
        return list(dict.fromkeys(expand))

    def _listing(self, call: _Call) -> Response:
        params = call.params
        expand = self._expand(call)
        if isinstance(expand, Response):
            return expand
        sort = params.one("sort") or "_id"
        if sort not in SORTS:
            return error_response(400, f'"sort" must be one of {", ".join(sorted(SORTS)[1:])}')
        try:
            limit = int(params.one("limit") or self.options.page_size)
        except ValueError:
            return error_response(400, '"limit" must be an integer')
        if limit < 1:
            return error_response(400, '"limit" must be positive')
        gated = params.one("gated")
        listing = ListingParams(
            filters=tuple(params.all("filter")),
            author=params.one("author") or None,
            search=params.one("search") or None,
            pipeline_tag=params.one("pipeline_tag") or None,
            gated=None if gated is None else gated.lower() in _TRUE,
            sort=sort,
            include_private=call.authorized,
        )
        try:
            page, cursor = list_page(
                self.state.view(), listing, params.one("cursor"), min(limit, self.options.max_page_size)
            )
        except QueryError as exc:
            return error_response(400, str(exc))
        fields: Sequence[str] = ["_id", "id", *expand]
        if not expand:
            fields = [
                *LISTING_FIELDS,
                *(LISTING_FULL_FIELDS if params.flag("full") else ()),
                *(("cardData",) if params.flag("cardData") else ()),
                *(("config",) if params.flag("config") else ()),
            ]
        base = f"{call.request.base_url}/api/models"
        headers = [("Link", params.link(base, cursor))] if cursor else []
        return json_response(200, [model_payload(repo, fields) for repo in page], headers)

    def _snapshot(self, call: _Call, repo_id: str, revision: str) -> Repo | Response:
        if self._visible(call, repo_id) is None:
            return _repo_not_found()
        snapshot = self.state.at_revision(repo_id, revision)
        if snapshot is None:
            return error_response(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        return snapshot

    def _info(self, call: _Call, repo_id: str, revision: str) -> Response:
        expand = self._expand(call)
        if isinstance(expand, Response):
            return expand
        snapshot = self._snapshot(call, repo_id, revision)
        if isinstance(snapshot, Response):
            return snapshot
        fields = ["_id", "id", *expand] if expand else INFO_FIELDS
        return json_response(200, model_payload(snapshot, fields, blobs=call.params.flag("blobs")))

    def _tree(self, call: _Call, repo_id: str, revision: str, folder: str) -> Response:
        snapshot = self._snapshot(call, repo_id, revision)
        if isinstance(snapshot, Response):
            return snapshot
        if self.state.has_broken_tree(repo_id):
            return _broken_tree()
        entries = tree_entries(snapshot, folder, call.params.flag("recursive"))
        if entries is None:
            return error_response(404, f'"{folder}" does not exist on "{revision}"', "EntryNotFound")
        try:
            page, cursor = tree_page(entries, call.params.one("cursor"), self.options.tree_page_size)
        except QueryError as exc:
            return error_response(400, str(exc))
        base = f"{call.request.base_url}{call.path}"
        headers = [("Link", call.params.link(base, cursor))] if cursor else []
        return json_response(200, [tree_payload(entry) for entry in page], headers)

    def _resolve(self, call: _Call, repo_id: str, revision: str, path: str) -> Response:
        repo = self._visible(call, repo_id)
        if repo is None:
            return _repo_not_found()
        if repo.gated and not call.authorized:
            return error_response(
                401,
                f"Access to model {repo_id} is restricted. You must have access to it and be "
                "authenticated to access it. Please log in.",
                "GatedRepo",
            )
        snapshot = self._snapshot(call, repo_id, revision)
        if isinstance(snapshot, Response):
            return snapshot
        commit = [("X-Repo-Commit", snapshot.sha)]
        hub_file = snapshot.file(path)
        if hub_file is None:
            return error_response(404, "Entry not found", "EntryNotFound", headers=commit)
        filename = path.rsplit("/", 1)[-1]
        disposition = f"inline; filename*=UTF-8''{quote(filename)}; filename=\"{filename}\";"
        if hub_file.is_lfs:
            location = f"{self._cdn_url()}/lfs/{hub_file.lfs_sha256}?" + urlencode(
                {"response-content-disposition": disposition}
            )
            return Response(
                302,
                [
                    ("Location", location),
                    ("Content-Type", "text/plain; charset=utf-8"),
                    ("ETag", f'"{hub_file.oid}"'),
                    ("X-Linked-Etag", f'"{hub_file.lfs_sha256}"'),
                    ("X-Linked-Size", str(hub_file.size)),
                    *commit,
                ],
                Body.of(f"Found. Redirecting to {location}".encode()),
            )
        content = hub_file.content or b""
        content_type = next(
            (t for ext, t in _CONTENT_TYPES.items() if path.endswith(ext)), "text/plain; charset=utf-8"
        )
        headers = [
            ("Content-Type", content_type),
            ("ETag", f'"{hub_file.oid}"'),
            ("Content-Disposition", disposition),
            *commit,
        ]
        return _content_response(headers, len(content), lambda: content, call.request.headers.get("range"))

    def _cdn(self, call: _Call, segments: list[str]) -> Response:
        blob = self.state.blob(segments[1]) if len(segments) == 2 and segments[0] == "lfs" else None
        if blob is None:
            return error_response(404, "Not Found")
        headers = [("Content-Type", "application/octet-stream"), ("ETag", f'"{blob.lfs_sha256}"')]
        disposition = call.params.one("response-content-disposition")
        if disposition:
            headers.append(("Content-Disposition", disposition))
        return _content_response(headers, blob.size, self._prefix(blob), call.request.headers.get("range"))

    def _prefix(self, blob: HubFile) -> Callable[[], bytes | LazyHeader]:
        spec = blob.gguf
        if spec is None:
            return lambda: b""
        return lambda: self.header_cache.get(spec)
