"""Error groups and their noise control: fingerprints, counts, regressions, escalation, suppression."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.database import transaction
from app.errors import ValidationFailed
from app.models import ErrorGroup, ErrorGroupAlert, Notification, OperationError
from app.runtime import Runtime
from app.services import campaigns, errors
from app.settings import Settings

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def network_error(i: int, **extra: object) -> errors.ErrorInput:
    # The message differs every time (a timestamp and a request id), as real ones do.
    return errors.ErrorInput(
        operation_type="social_posting",
        error_type="network_error",
        error_message=f"connect timeout at 2026-03-01T12:00:{i % 60:02d}Z (request {uuid.uuid4()})",
        error_details={"attempt": i},
        platform="facebook",
        notify_admin=True,
        **extra,  # type: ignore[arg-type]
    )


async def log(runtime: Runtime, settings: Settings, data: errors.ErrorInput, now: datetime) -> OperationError:
    async with transaction(runtime.sessionmaker) as s:
        return await errors.log_error(s, settings, data, now=now)


async def counts(runtime: Runtime) -> tuple[int, int, int]:
    async with runtime.sessionmaker() as s:
        groups = await s.scalar(select(func.count()).select_from(ErrorGroup))
        occurrences = await s.scalar(select(func.count()).select_from(OperationError))
        notes = await s.scalar(select(func.count()).select_from(Notification))
    return int(groups or 0), int(occurrences or 0), int(notes or 0)


async def alerts_of(runtime: Runtime, group_id: uuid.UUID) -> list[tuple[str, bool, str | None]]:
    async with runtime.sessionmaker() as s:
        rows = (
            await s.scalars(
                select(ErrorGroupAlert).where(ErrorGroupAlert.group_id == group_id).order_by(ErrorGroupAlert.id)
            )
        ).all()
    return [(a.kind, a.notification_id is not None, a.suppressed_reason) for a in rows]


async def test_1000_identical_network_errors_make_one_group_and_two_notifications_then_one_regression(
    runtime: Runtime, settings: Settings
) -> None:
    assert settings.alert_escalation_count == 100 and settings.alert_escalation_minutes == 5
    gate = asyncio.Semaphore(8)

    async def one(i: int) -> OperationError:
        async with gate:
            # 1,000 occurrences within 50 seconds, logged concurrently (so out of order).
            return await log(runtime, settings, network_error(i), T0 + timedelta(milliseconds=50 * i))

    logged = await asyncio.gather(*(one(i) for i in range(1000)))
    assert len({e.group_id for e in logged}) == 1
    group_id = logged[0].group_id
    assert group_id is not None
    async with runtime.sessionmaker() as s:
        group = await s.get(ErrorGroup, group_id)
        assert group is not None
        assert group.count == 1000 and group.status == "unresolved"
        assert group.first_seen == T0 and group.last_seen == T0 + timedelta(milliseconds=50 * 999)
        assert group.latest_error_id == logged[999].id
        assert group.escalated_at is not None
    # One notification for the new group, one for the escalation to urgent: not one per occurrence.
    assert await counts(runtime) == (1, 1000, 2)
    assert await alerts_of(runtime, group_id) == [("new", True, None), ("escalated", True, None)]
    async with runtime.sessionmaker() as s:
        notes = (await s.scalars(select(Notification).order_by(Notification.id))).all()
    assert [(n.severity, n.data["alert"]) for n in notes] == [("warning", "new"), ("urgent", "escalated")]
    assert notes[1].title.startswith("Escalated: ") and notes[1].data["group_id"] == str(group_id)

    resolved_at = T0 + timedelta(seconds=70)
    async with transaction(runtime.sessionmaker) as s:
        await errors.resolve_error(s, group_id, resolved_by="admin", note="router replaced", now=resolved_at)
    # An occurrence from before the resolve, reported late, does not reopen the group.
    await log(runtime, settings, network_error(1000), resolved_at - timedelta(seconds=5))
    async with runtime.sessionmaker() as s:
        group = await s.get(ErrorGroup, group_id)
        assert group is not None and group.status == "resolved" and group.count == 1001
    assert await counts(runtime) == (1, 1001, 2)

    # One more after the resolve: regressed, with exactly one notification.
    late = await log(runtime, settings, network_error(1001), resolved_at + timedelta(seconds=10))
    async with runtime.sessionmaker() as s:
        group = await s.get(ErrorGroup, group_id)
        assert group is not None
        assert group.status == "unresolved" and group.regressed_by_error_id == late.id and group.count == 1002
    assert await counts(runtime) == (1, 1002, 3)
    assert (await alerts_of(runtime, group_id))[-1] == ("regressed", True, None)


async def test_the_fingerprint_ignores_the_message_and_keeps_real_differences_apart(
    runtime: Runtime, settings: Settings
) -> None:
    async with transaction(runtime.sessionmaker) as s:
        c1 = await campaigns.create_campaign(s, title="A", currency="EUR", status="active", budget=None)
        c2 = await campaigns.create_campaign(s, title="B", currency="EUR", status="active", budget=None)

    def err(error_type: str, **kw: object) -> errors.ErrorInput:
        base: dict[str, object] = {
            "operation_type": "social_posting",
            "error_type": error_type,
            "error_message": f"failed at {uuid.uuid4()}",
            "platform": "facebook",
        }
        return errors.ErrorInput(**{**base, **kw})  # type: ignore[arg-type]

    e = [
        await log(runtime, settings, err("api_error", campaign_id=c1.id, error_details={"platform_code": "100"}), T0),
        await log(runtime, settings, err("api_error", campaign_id=c1.id, error_details={"platform_code": "100"}), T0),
        # Another platform error code, another campaign, another account: other problems.
        await log(runtime, settings, err("api_error", campaign_id=c1.id, error_details={"platform_code": "200"}), T0),
        await log(runtime, settings, err("api_error", campaign_id=c2.id, error_details={"platform_code": "100"}), T0),
        await log(
            runtime, settings, err("token_expired", error_details={"account_id": "page-1"}, campaign_id=c1.id), T0
        ),
        # An expired token is the account's problem: the campaign does not split it.
        await log(runtime, settings, err("token_expired", account_id="page-1", campaign_id=c2.id), T0),
        await log(runtime, settings, err("token_expired", account_id="page-2", campaign_id=c2.id), T0),
    ]
    groups = [x.group_id for x in e]
    assert groups[0] == groups[1]
    assert len({groups[0], groups[2], groups[3], groups[4], groups[6]}) == 5
    assert groups[4] == groups[5]
    async with runtime.sessionmaker() as s:
        token_group = await s.get(ErrorGroup, groups[4])
        assert token_group is not None
        assert (token_group.account_id, token_group.campaign_id, token_group.count) == ("page-1", None, 2)
        api_group = await s.get(ErrorGroup, groups[0])
        assert api_group is not None and (api_group.error_code, api_group.campaign_id) == ("100", c1.id)


async def test_cooldown_and_ignore_suppress_notifications_visibly_on_the_group(
    runtime: Runtime, settings: Settings
) -> None:
    first = await log(runtime, settings, network_error(0), T0)
    gid = first.group_id
    assert gid is not None

    async def resolve(at: datetime) -> None:
        async with transaction(runtime.sessionmaker) as s:
            await errors.resolve_error(s, gid, resolved_by="admin", note=None, now=at)

    await resolve(T0 + timedelta(minutes=1))
    await log(runtime, settings, network_error(1), T0 + timedelta(minutes=2))  # regressed: sent
    await resolve(T0 + timedelta(minutes=3))
    await log(runtime, settings, network_error(2), T0 + timedelta(minutes=4))  # regressed again: flapping
    history = await alerts_of(runtime, gid)
    assert [h[:2] for h in history] == [("new", True), ("regressed", True), ("regressed", False)]
    assert history[2][2] is not None and history[2][2].startswith("cooldown: a regressed notification")
    assert "900 s" in history[2][2]
    # After the cooldown a regression is news again.
    await resolve(T0 + timedelta(minutes=5))
    await log(runtime, settings, network_error(3), T0 + timedelta(minutes=20))
    assert (await alerts_of(runtime, gid))[-1] == ("regressed", True, None)

    # Ignored until a time: even the escalation to urgent is suppressed (and says why) ...
    until = T0 + timedelta(hours=2)
    async with transaction(runtime.sessionmaker) as s:
        await errors.ignore_group(s, gid, until=until, now=T0 + timedelta(minutes=21))
    for i in range(settings.alert_escalation_count + 1):
        await log(runtime, settings, network_error(10 + i), T0 + timedelta(minutes=22, milliseconds=i))
    last = (await alerts_of(runtime, gid))[-1]
    assert last[:2] == ("escalated", False)
    assert last[2] == f"the group is ignored until {until.isoformat()}"
    async with transaction(runtime.sessionmaker) as s:
        page, _ = await errors.unresolved_groups(s, errors.ErrorFilter(), first=10, after=None, now=until)
        assert [g.group.id for g in page] == [gid]  # the ignore has run out
        early, _ = await errors.unresolved_groups(s, errors.ErrorFilter(), first=10, after=None, now=T0)
        assert early == []
    # ... and the next occurrence after the time is up makes it plainly unresolved again.
    await log(runtime, settings, network_error(999), until + timedelta(seconds=1))
    async with runtime.sessionmaker() as s:
        group = await s.get(ErrorGroup, gid)
        assert group is not None and group.status == "unresolved" and group.ignored_until is None


async def test_an_occurrence_that_asks_for_the_admin_alerts_a_group_whose_earlier_ones_did_not(
    runtime: Runtime, settings: Settings
) -> None:
    quiet = await log(runtime, settings, network_error(0, account_id="a"), T0)
    quiet_data = network_error(1, account_id="a")
    quiet_data.notify_admin = False
    first = await log(runtime, settings, network_error(0, account_id="b"), T0)
    assert first.group_id != quiet.group_id
    # A group created without notify_admin: suppressed, and recorded as such.
    silent = network_error(2, account_id="c")
    silent.notify_admin = False
    s1 = await log(runtime, settings, silent, T0)
    assert await alerts_of(runtime, s1.group_id) == [  # type: ignore[arg-type]
        ("new", False, "notify_admin was not requested for this occurrence")
    ]
    await log(runtime, settings, silent, T0 + timedelta(seconds=1))  # still quiet: nothing recorded
    await log(runtime, settings, network_error(3, account_id="c"), T0 + timedelta(seconds=2))  # asks: alerts
    await log(runtime, settings, network_error(4, account_id="c"), T0 + timedelta(seconds=3))  # once
    assert [a[:2] for a in await alerts_of(runtime, s1.group_id)] == [("new", False), ("new", True)]  # type: ignore[arg-type]


async def test_a_rolled_back_transaction_leaves_no_group_no_occurrence_and_no_notification(
    runtime: Runtime, settings: Settings
) -> None:
    with pytest.raises(RuntimeError):
        async with transaction(runtime.sessionmaker) as s:
            await errors.log_error(s, settings, network_error(0), now=T0)
            raise RuntimeError("the operation failed later in the same transaction")
    assert await counts(runtime) == (0, 0, 0)


async def test_occurred_at_in_the_future_is_refused_naming_the_field(runtime: Runtime, settings: Settings) -> None:
    with pytest.raises(ValidationFailed) as exc:
        await log(runtime, settings, network_error(0, occurred_at=T0 + timedelta(hours=1)), T0)
    assert exc.value.field == "occurred_at"
    with pytest.raises(ValidationFailed) as exc:
        await log(runtime, settings, network_error(0, account_id=["x"]), T0)
    assert exc.value.field == "account_id"
    assert await counts(runtime) == (0, 0, 0)
