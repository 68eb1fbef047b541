"""Finding GGUF repos: the strategies, and merging what they find into one row per repo.

The `gguf` library tag finds most repos; some GGUF uploads are untagged, so multi-strategy
discovery (sync_behavior.enable_multi_strategy_discovery) also searches names for "gguf", lists
the configured publishers' repos and runs the configured search terms. Every strategy pages the
listing sorted by lastModified and stops at the start of the window being synced.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from ggufsync_assets.hub.client import ListingQuery
from ggufsync_assets.settings import Settings
from ggufsync_assets.sync.records import LISTING_EXPAND


class Method(StrEnum):
    TAG = "tag"
    SEARCH = "search"
    AUTHOR = "author"
    TERM = "term"


@dataclass(frozen=True)
class Strategy:
    method: Method
    query: ListingQuery

    @property
    def label(self) -> str:
        q = self.query
        detail = q.author or q.search or ",".join(q.filter)
        return f"{self.method.value}:{detail}"


def strategies(settings: Settings, modified_since: datetime | None, page_size: int = 1000) -> list[Strategy]:
    def query(**kwargs: object) -> ListingQuery:
        return ListingQuery(
            expand=LISTING_EXPAND,
            page_size=page_size,
            modified_since=modified_since,
            **kwargs,  # type: ignore[arg-type]
        )

    found = [Strategy(Method.TAG, query(filter=("gguf",)))]
    if settings.sync_behavior.enable_multi_strategy_discovery:
        found.append(Strategy(Method.SEARCH, query(search="gguf")))
        found += [Strategy(Method.AUTHOR, query(author=a)) for a in settings.discovery.authors]
        found += [Strategy(Method.TERM, query(search=t)) for t in settings.discovery.search_terms]
    return found
