"""The async Hub client every part of ggufsync uses.

One request path for everything: the URL policy (allowed hosts, where the token may go), the
pacer (our limits and the server's budget), the concurrency limit, and retries with exponential
backoff and full jitter. Bodies are read and parsed whole inside a retried attempt, so a page is
either used entirely or fetched again, never half-used.
"""

from __future__ import annotations

import functools
import json
import logging
import ssl
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import quote, urljoin

import httpx
from huggingface_hub.utils import parse_ratelimit_headers
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_random_exponential

from ggufsync_assets.hub.concurrency import AdaptiveConcurrency
from ggufsync_assets.hub.errors import HubNotFound, HubResponseError, RetryableHubError
from ggufsync_assets.hub.lanes import Lanes
from ggufsync_assets.hub.pacing import RequestPacer, parse_retry_after
from ggufsync_assets.hub.progress import HubStats, ProgressCallback, ProgressTracker
from ggufsync_assets.hub.safety import UrlPolicy
from ggufsync_assets.redaction import MASK, redact_text
from ggufsync_assets.settings import Settings

log = logging.getLogger("ggufsync.hub")
REQUEST_LOGGER = "ggufsync.requests"
request_log = logging.getLogger(REQUEST_LOGGER)
request_log.propagate = False
"""One line per request: a file's worth (defs/resources.py), never one run event each in Dagster's
event log, where 6,000 requests cost 8 s of SQLite writes and bury the run's own lines."""

MAX_REDIRECTS = 5
NOT_FOUND_CODES = frozenset({"RepoNotFound", "RevisionNotFound", "EntryNotFound"})
USER_AGENT = "ggufsync/0.1"
API_BUCKET = "api"
T = TypeVar("T")
E = TypeVar("E")


@dataclass(frozen=True)
class _Call:
    """One HTTP request as the client sends it (a redirect makes a new one)."""

    method: str
    url: str
    params: list[tuple[str, str]] | None = None
    headers: dict[str, str] | None = None


@dataclass(frozen=True)
class ClientOptions:
    """What the client is told. Everything the settings decide has no default here: build the
    options with `from_settings` (which takes overrides), so the defaults live in one place."""

    endpoint: str
    token: str | None = field(repr=False)
    requests_per_second: float
    requests_per_hour: int
    max_concurrent_requests: int
    max_retries: int
    allowed_domains: tuple[str, ...]
    mask_sensitive_data: bool
    adaptive_concurrency: bool
    detailed_logging: bool
    progress_interval_seconds: float
    timeout_seconds: float = 30.0
    backoff_base_seconds: float = 1.0
    backoff_max_seconds: float = 60.0

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> ClientOptions:
        values: dict[str, Any] = {
            "endpoint": settings.hub.endpoint,
            "token": settings.token_value(),
            "requests_per_second": settings.rate_limiting.requests_per_second,
            "requests_per_hour": settings.rate_limiting.requests_per_hour,
            "max_concurrent_requests": settings.rate_limiting.max_concurrent_requests,
            "max_retries": settings.rate_limiting.max_retries,
            "allowed_domains": tuple(settings.security.allowed_domains),
            "mask_sensitive_data": settings.security.mask_sensitive_data,
            "adaptive_concurrency": settings.performance.enable_adaptive_parameters,
            "detailed_logging": settings.monitoring.enable_detailed_logging,
            "progress_interval_seconds": settings.monitoring.progress_report_interval_seconds,
        }
        values.update(overrides)
        return cls(**values)


@dataclass(frozen=True)
class ListingQuery:
    """One `GET /api/models` listing, always sorted descending by the Hub."""

    filter: tuple[str, ...] = ()
    author: str | None = None
    search: str | None = None
    sort: str = "lastModified"
    expand: tuple[str, ...] = ()
    page_size: int = 1000
    modified_since: datetime | None = None
    probe_size: int | None = None
    """With modified_since: the first request asks for this many records only. When they reach back
    past modified_since, or are the whole listing, they are the listing; when the Hub filled the page
    and links to more, the window is listed again from its start in pages of page_size (one request
    more). A window the catalogue knows to be quiet then costs the Hub a small page, not a full one."""

    def params(self) -> list[tuple[str, str]]:
        params = [("filter", f) for f in self.filter]
        params += [(k, v) for k, v in (("author", self.author), ("search", self.search)) if v]
        params += [("sort", self.sort), ("limit", str(self.page_size))]
        params += [("expand", e) for e in self.expand]
        return params


def parse_hub_time(value: Any) -> datetime | None:
    """A Hub timestamp (ISO 8601, `Z` for UTC) as a datetime; None for anything else."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _older_than(record: Any, since: datetime) -> bool:
    """Whether a listing record says it was last modified before `since`. A record that cannot say
    (not an object, no timestamp with a time zone) is passed on, for validation to reject."""
    if not isinstance(record, dict):
        return False
    moment = parse_hub_time(record.get("lastModified"))
    return moment is not None and moment.tzinfo is not None and moment < since


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One for every lane of every client in the process: building one loads the CA bundle (about
    50 ms), and each step of a run opens a client of its own."""
    return httpx.create_ssl_context(trust_env=False)


def _loads(content: bytes) -> Any:
    """JSON as Python reads it, except that an integer too long for Python (over 4300 digits) stays
    text: the record holding it then fails validation instead of its whole page failing to parse."""
    try:
        return json.loads(content)
    except ValueError:
        return json.loads(content, parse_int=_int_or_text)


def _int_or_text(digits: str) -> int | str:
    try:
        return int(digits)
    except ValueError:
        return digits


def _json_kind(data: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(data), "a number")


def _as_is(response: httpx.Response) -> httpx.Response:
    return response


def _bucket(url: str, endpoint: str) -> str:
    """The Hub counts API calls and file downloads ("resolvers") in separate windows."""
    return API_BUCKET if url.startswith(f"{endpoint}/api/") else "resolvers"


class HubClient:
    def __init__(
        self,
        options: ClientOptions,
        *,
        progress: ProgressCallback | None = None,
        live: ProgressCallback | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.options = options
        self.policy = UrlPolicy(
            options.endpoint, list(options.allowed_domains), mask_urls=options.mask_sensitive_data
        )
        self.pacer = RequestPacer(options.requests_per_second, options.requests_per_hour, clock=clock)
        self.concurrency = AdaptiveConcurrency(
            options.max_concurrent_requests, adaptive=options.adaptive_concurrency
        )
        self.progress = ProgressTracker(options.progress_interval_seconds, progress, live=live, clock=clock)
        self._secrets = (options.token,) if options.token else ()
        tls = _tls_context()
        self._lanes = Lanes(
            lambda: httpx.AsyncClient(
                transport=transport,
                verify=tls,
                timeout=httpx.Timeout(options.timeout_seconds, connect=min(10.0, options.timeout_seconds)),
                limits=httpx.Limits(max_connections=1),
                headers={"User-Agent": USER_AGENT},
                follow_redirects=False,  # each hop is checked against the URL policy by us
                trust_env=False,  # no proxy or .netrc credentials picked up from the environment
            )
        )

    def __repr__(self) -> str:
        token = MASK if self.options.token else None
        return f"HubClient(endpoint={self.options.endpoint!r}, token={token!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        self.progress.report()
        await self._lanes.aclose()

    @property
    def connections_opened(self) -> int:
        return self._lanes.opened

    @property
    def stats(self) -> HubStats:
        return self.progress.snapshot()

    # ----- the public calls ---------------------------------------------------------------

    async def iter_model_pages(self, query: ListingQuery) -> AsyncIterator[list[dict[str, Any]]]:
        """Pages of `/api/models`, following Link headers; with `modified_since` on a lastModified
        listing, stops at the first record older than that (the rest of the Hub is older still),
        first asking for `probe_size` records when it is set (see ListingQuery)."""
        url: str | None = f"{self.options.endpoint}/api/models"
        params: list[tuple[str, str]] | None = query.params()
        since = query.modified_since if query.sort == "lastModified" else None
        if since is not None and query.probe_size is not None and query.probe_size < query.page_size:
            probe = replace(query, page_size=query.probe_size).params()
            page, next_url = await self._models_page(f"{self.options.endpoint}/api/models", probe)
            recent = [r for r in page if not _older_than(r, since)]
            if len(recent) < len(page) or next_url is None:
                yield recent
                return
            if len(page) != query.probe_size:  # the Hub pages at a size of its own: go on from here
                yield page
                url, params = next_url, None
        while url is not None:
            page, next_url = await self._models_page(url, params)
            if since is not None:
                recent = [r for r in page if not _older_than(r, since)]
                if len(recent) < len(page):
                    yield recent
                    return
            yield page
            url, params = next_url, None

    async def _models_page(
        self, url: str, params: list[tuple[str, str]] | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One listing page and the URL of the next (None on the last)."""
        # A page is declared once it is certain (the first, then each the Hub links to), so the
        # pacer sends it at once while the advertised budget lasts rather than spreading it.
        self.expect_api_requests(1)
        page, response = await self._get_json(url, params, expect=list, what="a list of models")
        self.progress.add(pages=1, records=len(page))
        next_url = response.links.get("next", {}).get("url")
        if next_url:
            next_url = urljoin(url, next_url)
            self.policy.check(next_url)
        return page, next_url

    async def model_info(
        self, repo_id: str, *, revision: str | None = None, blobs: bool = False, expand: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        path = f"/api/models/{repo_id}" + (f"/revision/{quote(revision, safe='')}" if revision else "")
        params = [("blobs", "true")] if blobs else []
        params += [("expand", e) for e in expand]
        data, _ = await self._get_json(
            f"{self.options.endpoint}{path}",
            params or None,
            expect=dict,
            what=f"a model object for {repo_id}",
        )
        return data

    async def list_tree(self, repo_id: str, revision: str = "main") -> list[dict[str, Any]]:
        """Every file and folder of a repo at a revision (all pages of the recursive tree)."""
        url: str | None = f"{self.options.endpoint}/api/models/{repo_id}/tree/{quote(revision, safe='')}"
        params: list[tuple[str, str]] | None = [("recursive", "true")]
        entries: list[dict[str, Any]] = []
        while url is not None:
            page, response = await self._get_json(url, params, expect=list, what="a list of tree entries")
            entries.extend(page)
            next_url = response.links.get("next", {}).get("url")
            url, params = (urljoin(url, next_url), None) if next_url else (None, None)
            if url:
                self.policy.check(url)
        return entries

    async def read_range(
        self, repo_id: str, path: str, start: int, end: int, revision: str = "main"
    ) -> bytes:
        """Bytes start..end (inclusive) of a file, through the resolve redirect to wherever it lives."""
        url = f"{self.options.endpoint}/{repo_id}/resolve/{quote(revision, safe='')}/{quote(path)}"
        response = await self._request(_Call("GET", url, headers={"Range": f"bytes={start}-{end}"}), _as_is)
        if response.status_code == 200:  # a server that ignores Range sends everything
            return response.content[: end - start + 1]
        return response.content

    def expect_api_requests(self, requests: int) -> None:
        """Declare API calls about to be made (e.g. one tree per repo to refresh), so the pacer goes
        at full speed while the Hub's advertised budget covers them."""
        self.pacer.expect(API_BUCKET, requests)

    # ----- one request, retried -----------------------------------------------------------

    async def _get_json(
        self,
        url: str,
        params: list[tuple[str, str]] | None,
        *,
        expect: type[E],
        what: str,
    ) -> tuple[E, httpx.Response]:
        """The JSON body at `url`. Unreadable JSON, or JSON that is not the `expect`ed kind (a proxy's
        error page answered with 200, say), counts as a transient failure: the request is retried."""

        def parse(response: httpx.Response) -> tuple[E, httpx.Response]:
            shown = self.policy.show(url, self._secrets)
            try:
                data = _loads(response.content)
            except ValueError:
                raise RetryableHubError(f"malformed JSON from {shown}") from None
            except RecursionError:  # not transient: the same answer nests as deep next time
                raise HubResponseError(f"JSON nested too deeply to read from {shown}") from None
            if not isinstance(data, expect):
                raise RetryableHubError(f"expected {what} from {shown}, got {_json_kind(data)}")
            return data, response

        return await self._request(_Call("GET", url, params), parse)

    async def _request(self, call: _Call, parse: Callable[[httpx.Response], T]) -> T:
        jitter = wait_random_exponential(
            multiplier=self.options.backoff_base_seconds, max=self.options.backoff_max_seconds
        )

        def wait(state: RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            hint = getattr(error, "wait_hint", None) or 0.0
            return max(hint, jitter(state))

        def count_retry(state: RetryCallState) -> None:
            self.progress.add(retries=1)

        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.options.max_retries + 1),
            wait=wait,
            retry=retry_if_exception_type(RetryableHubError),
            before_sleep=count_retry,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return parse(await self._attempt(call))
        except RetryableHubError as exc:
            self.progress.add(failures=1)
            raise HubResponseError(
                f"gave up after {self.options.max_retries + 1} attempts: {exc}", status=exc.status
            ) from None
        raise AssertionError("unreachable: tenacity either returns or raises")

    async def _attempt(self, call: _Call) -> httpx.Response:
        for _ in range(MAX_REDIRECTS + 1):
            response = await self._send_once(call)
            if response.is_redirect and "location" in response.headers:
                call = replace(
                    call, url=urljoin(str(response.url), response.headers["location"]), params=None
                )
                continue
            return self._classify(response)
        raise HubResponseError(f"more than {MAX_REDIRECTS} redirects from {self.policy.show(call.url)}")

    async def _send_once(self, call: _Call) -> httpx.Response:
        method, url, params = call.method, call.url, call.params
        self.policy.check(url)
        request_headers = dict(call.headers or {})
        if self.options.token and self.policy.may_carry_token(url):
            request_headers["Authorization"] = f"Bearer {self.options.token}"
        bucket = _bucket(url, self.options.endpoint)
        shown = self.policy.show(url, self._secrets)
        async with self.concurrency:
            await self.pacer.acquire(bucket)
            started = time.monotonic()
            try:
                with self._lanes.lane() as http:
                    response = await http.request(
                        method,
                        url,
                        # a tuple: httpx types a list of query pairs invariantly, so list[tuple[str, str]] fails
                        params=tuple(params) if params is not None else None,
                        headers=request_headers,
                    )
            except httpx.TimeoutException:
                self._record(shown, None, started, healthy=False)
                raise RetryableHubError(f"timed out: {method} {shown}") from None
            except httpx.TransportError as exc:
                self._record(shown, None, started, healthy=False)
                raise RetryableHubError(
                    f"connection failed ({type(exc).__name__}): {method} {shown}"
                ) from None
            finally:
                self.pacer.release(bucket)
            self.pacer.observe(bucket, response.headers)
            self._record(shown, response, started, healthy=response.status_code < 429)
            return response

    def _record(self, shown: str, response: httpx.Response | None, started: float, *, healthy: bool) -> None:
        seconds = time.monotonic() - started
        self.concurrency.record(healthy=healthy, seconds=seconds)
        received = len(response.content) if response is not None else 0
        self.progress.add(requests=1, bytes_received=received)
        level = logging.INFO if self.options.detailed_logging else logging.DEBUG
        status = response.status_code if response is not None else "no response"
        request_log.log(level, "%s -> %s in %.0f ms", shown, status, seconds * 1000)

    def _classify(self, response: httpx.Response) -> httpx.Response:
        status = response.status_code
        if status < 400:
            return response
        shown = self.policy.show(str(response.url), self._secrets)
        code = response.headers.get("x-error-code")
        if status == 429:
            budget = parse_ratelimit_headers(response.headers)
            wait = parse_retry_after(response.headers.get("retry-after"))
            if wait is None and budget is not None:
                wait = budget.reset_in_seconds
            self.pacer.pause(wait or self.options.backoff_base_seconds)
            self.progress.add(rate_limited=1)
            raise RetryableHubError(f"rate limited (429) at {shown}", status=status, wait_hint=wait)
        if status >= 500:
            raise RetryableHubError(f"server error {status} at {shown}", status=status)
        message = redact_text(f"{status} {code or ''} at {shown}".replace("  ", " "), self._secrets)
        if code in NOT_FOUND_CODES or status == 404:
            raise HubNotFound(message, status=status, error_code=code)
        raise HubResponseError(message, status=status, error_code=code)
