"""3. Alerts: time from logError's commit to arrival at many websocket subscribers over 2 API processes.

Runs once the schema has `alerts(minSeverity, after)` as a subscription (graphql-transport-ws, connection_init
payload {"authorization": "Bearer KEY"}); until then it reports "skipped: no alerts subscription in schema",
found by introspection. The clock starts when logError is sent, so the figure includes the mutation's own
round trip (an upper bound on commit-to-arrival; the mutation's own latency is reported beside it).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from contextlib import ExitStack
from typing import Any

import httpx

from bench.harness import Bench, Result, eventops_api, percentile

TYPE_REF = "kind name ofType { kind name ofType { kind name ofType { kind name } } }"
INTROSPECT = "{ __schema { subscriptionType { fields { name args { name } type { " + TYPE_REF + " } } } } }"
FIELDS = "query($t: String!) { __type(name: $t) { fields { name args { name } type { " + TYPE_REF + " } } } }"
LOG_ERROR = (
    'mutation($m: String!) { logError(input: {operationType: "social_posting", errorType: TOKEN_EXPIRED, '
    'errorMessage: $m, platform: "facebook", notifyAdmin: true, errorCode: $m}) { id } }'
)
# errorCode differs per alert: each is a new error group, so each is notified (the same group would alert
# once per change of state, and the rest would be deduplicated, by design).


def _named(t: dict[str, Any]) -> dict[str, Any]:
    while t.get("ofType"):
        t = t["ofType"]
    return t


def alerts_subscription(url: str, key: str) -> str | None:
    """The subscription document to send (every scalar field of an alert), or None without `alerts`."""
    headers = {"authorization": f"Bearer {key}"}
    r = httpx.post(url, json={"query": INTROSPECT}, headers=headers, timeout=30)
    sub = ((r.json().get("data") or {}).get("__schema") or {}).get("subscriptionType")
    fields = {f["name"]: f for f in (sub or {}).get("fields") or []}
    alerts = fields.get("alerts")
    if alerts is None or not {"minSeverity", "after"} <= {a["name"] for a in alerts["args"]}:
        return None
    named = _named(alerts["type"])
    selection = ""
    if named["kind"] == "OBJECT":
        t = httpx.post(url, json={"query": FIELDS, "variables": {"t": named["name"]}}, headers=headers, timeout=30)
        scalars = [
            f["name"]
            for f in t.json()["data"]["__type"]["fields"]
            if not f["args"] and _named(f["type"])["kind"] in ("SCALAR", "ENUM")
        ]
        selection = " { " + " ".join(scalars or ["__typename"]) + " }"
    return "subscription { alerts(minSeverity: WARNING, after: null)" + selection + " }"


async def _subscriber(
    url: str,
    key: str,
    document: str,
    ready: asyncio.Event,
    counter: list[int],
    arrivals: dict[str, list[float]],
    total: int,
    done: asyncio.Event,
) -> None:
    import websockets

    async with websockets.connect(
        url.replace("http", "ws"), subprotocols=["graphql-transport-ws"], open_timeout=60, max_queue=None
    ) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {key}"}}))
        ack = json.loads(await ws.recv())
        if ack.get("type") != "connection_ack":
            raise RuntimeError(f"no connection_ack: {ack}")
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": document}}))
        counter[0] += 1
        if counter[0] == total:
            ready.set()
        while not done.is_set():
            try:
                raw = await asyncio.wait_for(ws.recv(), timeout=0.5)
            except TimeoutError:
                continue
            now = time.perf_counter()
            msg = json.loads(raw)
            if msg.get("type") == "ping":
                await ws.send(json.dumps({"type": "pong"}))
            if msg.get("type") != "next":
                continue
            text = json.dumps(msg.get("payload"))
            for marker in arrivals:
                if marker in text:
                    arrivals[marker].append(now)


async def _measure(urls: list[str], key: str, document: str, subscribers: int, alerts: int) -> dict[str, Any]:
    ready, done = asyncio.Event(), asyncio.Event()
    counter = [0]
    markers = [f"bench-alert-{uuid.uuid4().hex}" for _ in range(alerts)]
    arrivals: dict[str, list[float]] = {m: [] for m in markers}
    tasks = [
        asyncio.create_task(
            _subscriber(urls[i % len(urls)], key, document, ready, counter, arrivals, subscribers, done)
        )
        for i in range(subscribers)
    ]
    await asyncio.wait_for(ready.wait(), timeout=120)
    await asyncio.sleep(1)  # let the subscriptions settle server-side
    sent: dict[str, float] = {}
    answered: list[float] = []
    async with httpx.AsyncClient(headers={"authorization": f"Bearer {key}"}, timeout=30) as c:
        for m in markers:
            sent[m] = time.perf_counter()
            r = await c.post(urls[0], json={"query": LOG_ERROR, "variables": {"m": m}})
            answered.append((time.perf_counter() - sent[m]) * 1000)
            r.raise_for_status()
            if "errors" in r.json():
                raise RuntimeError(f"logError failed: {r.text[:300]}")
            await asyncio.sleep(0.1)
    deadline = time.perf_counter() + 10
    while time.perf_counter() < deadline and any(len(v) < subscribers for v in arrivals.values()):  # noqa: ASYNC110
        await asyncio.sleep(0.1)
    done.set()
    latencies = [(t - sent[m]) * 1000 for m, ts in arrivals.items() for t in ts]
    missed = sum(subscribers - len(v) for v in arrivals.values())
    failed = [r for r in await asyncio.gather(*tasks, return_exceptions=True) if isinstance(r, BaseException)]
    return {
        "latencies": latencies,
        "missed": missed,
        "expected": subscribers * alerts,
        "mutation_ms": sorted(answered),
        "subscriber_failures": [repr(f)[:200] for f in failed[:5]],
    }


def run(bench: Bench) -> None:
    s = bench.scale
    with ExitStack() as stack:
        first, _ = stack.enter_context(eventops_api(bench, "api-alerts-1"))
        document = alerts_subscription(first, bench.service_key)
        if document is None:
            bench.results.append(
                Result(
                    benchmark=f"alerts: logError → {s.subscribers:,} subscribers, 2 API processes",
                    metric="p99 latency",
                    unit="ms",
                    eventops=None,
                    baseline=None,
                    baseline_name="—",
                    target="p99 ≤ 100 ms, none missed",
                    met=None,
                    note="skipped: no alerts subscription in schema",
                )
            )
            return
        second, _ = stack.enter_context(eventops_api(bench, "api-alerts-2"))
        m = asyncio.run(_measure([first, second], bench.service_key, document, s.subscribers, s.alerts))
    lat = m["latencies"]
    p99 = percentile(lat, 0.99) if lat else None
    bench.results.append(
        Result(
            benchmark=f"alerts: logError → {s.subscribers:,} subscribers, 2 API processes",
            metric="p99 latency",
            unit="ms",
            eventops=p99,
            baseline=None,
            baseline_name="—",
            target="p99 ≤ 100 ms, none missed",
            met=p99 is not None and p99 <= 100 and m["missed"] == 0,
            note=f"{m['missed']} of {m['expected']} deliveries missed",
            extra={
                "p50_ms": percentile(lat, 0.5) if lat else None,
                "deliveries": len(lat),
                "logError_p50_ms": percentile(m["mutation_ms"], 0.5) if m["mutation_ms"] else None,
                "subscriber_failures": m["subscriber_failures"],
            },
        )
    )
