"""What the Facebook and Instagram adapters share: the Graph API's error shape and insights rows."""

from __future__ import annotations

from typing import Any

from app.platforms._http import HttpAdapter, Reply, as_int


class GraphAdapter(HttpAdapter):
    def _is_error(self, reply: Reply) -> bool:
        # The Graph API reports errors as {"error": {...}}, whatever the status.
        body = reply.body
        return not 200 <= reply.status < 300 or (isinstance(body, dict) and "error" in body)


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
