"""What the Facebook and Instagram adapters share: the Graph API's error shape and insights rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.platforms._http import CLOCK_SKEW, HttpAdapter, Reply, as_int, parse_time, within
from app.platforms.base import AccountCredentials, PublishedPost, PublishRequest, post_matches


class GraphAdapter(HttpAdapter):
    def _is_error(self, reply: Reply) -> bool:
        # The Graph API reports errors as {"error": {...}}, whatever the status.
        body = reply.body
        return not 200 <= reply.status < 300 or (isinstance(body, dict) and "error" in body)

    async def _find_in_edge(
        self,
        creds: AccountCredentials,
        request: PublishRequest,
        since: datetime,
        *,
        edge: str,
        text_field: str,
        time_field: str,
        link_field: str,
        default_url: str | None,
    ) -> PublishedPost | None:
        """Our post among the account's recent ones on an edge (/posts for Pages, /media for Instagram),
        which name the same things differently."""
        reply = await self._call(
            "find",
            "GET",
            f"/{creds.account_id}/{edge}",
            creds.access_token,
            params={
                "fields": f"id,{text_field},{link_field},{time_field}",
                "since": int((since - CLOCK_SKEW).timestamp()),
                "limit": 50,
            },
        )
        rows = reply.body.get("data") if isinstance(reply.body, dict) else None
        for row in rows if isinstance(rows, list) else []:
            if not isinstance(row, dict) or not isinstance(row.get("id"), str):
                continue
            created = parse_time(row.get(time_field))
            if within(created, since) and post_matches(row.get(text_field), request):
                link = row.get(link_field)
                url = link if isinstance(link, str) else (default_url.format(id=row["id"]) if default_url else None)
                return PublishedPost(platform_post_id=row["id"], url=url, created_at=created)
        return None


def insights_values(body: Any) -> dict[str, int]:
    """metric name -> value from an insights answer, preferring the `lifetime` row.

    Some metrics return a stale `day` row beside `lifetime`; newer metrics use total_value.
    """
    rows = body.get("data") if isinstance(body, dict) else None
    values: dict[str, int] = {}
    lifetime_seen: set[str] = set()
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, dict) or not isinstance(row.get("name"), str):
            continue
        name, period = row["name"], row.get("period")
        if name in lifetime_seen and period != "lifetime":
            continue
        if isinstance(row.get("total_value"), dict):
            value = as_int(row["total_value"].get("value"))
        else:
            points = row.get("values")
            last = points[-1] if isinstance(points, list) and points else {}
            value = as_int(last.get("value")) if isinstance(last, dict) else 0
        values[name] = value
        if period == "lifetime":
            lifetime_seen.add(name)
    return values
