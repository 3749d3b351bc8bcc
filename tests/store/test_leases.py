"""Review leases: taken, refused for another holder, forced with an audit row, expired, released."""

from __future__ import annotations

import pytest

from tests.store.factories import BASE_TIME, make_message
from triage_tui.store.leases import (
    LeaseError,
    lease_holders,
    lease_of,
    release_review_lease,
    take_review_lease,
)
from triage_tui.store.models import AuditRow, ReviewLease

NOW = BASE_TIME + 1_000


def test_a_free_message_is_taken_and_renewed_by_its_holder(db):
    key = make_message()
    first = take_review_lease(key, holder="ana", ttl_s=60, now=NOW)
    assert first.taken and first.holder == "ana" and first.previous_holder == ""
    assert first.expires_at.timestamp() == NOW + 60
    renewed = take_review_lease(key, holder="ana", ttl_s=60, now=NOW + 30)
    assert renewed.taken and renewed.expires_at.timestamp() == NOW + 90
    assert ReviewLease.select().count() == 1


def test_another_live_holder_keeps_the_lease_unless_forced(db):
    key = make_message()
    take_review_lease(key, holder="ana", ttl_s=300, now=NOW)
    refused = take_review_lease(key, holder="bo", now=NOW + 10)
    assert not refused.taken and refused.holder == "ana"
    assert lease_holders([key], now=NOW + 10) == {key: "ana"}
    assert AuditRow.select().count() == 0

    forced = take_review_lease(key, holder="bo", force=True, now=NOW + 20)
    assert forced.taken and forced.holder == "bo" and forced.previous_holder == "ana"
    assert lease_holders([key], now=NOW + 20) == {key: "bo"}
    audit = AuditRow.get(AuditRow.action == "lease.takeover")
    assert audit.actor == "bo" and '"previous_holder": "ana"' in audit.detail
    assert audit.message_id and audit.grant_id == "grant-1"


def test_an_expired_lease_is_free_for_anyone(db):
    key = make_message()
    take_review_lease(key, holder="ana", ttl_s=60, now=NOW)
    assert lease_holders([key], now=NOW + 61) == {}
    assert lease_of(key, now=NOW + 61) is None
    taken = take_review_lease(key, holder="bo", ttl_s=60, now=NOW + 61)
    assert taken.taken and taken.previous_holder == "ana"
    assert AuditRow.select().where(AuditRow.action == "lease.takeover").count() == 0


def test_release_only_frees_your_own_lease(db):
    key = make_message()
    take_review_lease(key, holder="ana", now=NOW)
    release_review_lease(key, holder="bo")
    assert lease_of(key, now=NOW).holder == "ana"
    release_review_lease(key, holder="ana")
    assert lease_of(key, now=NOW) is None
    assert take_review_lease(key, holder="bo", now=NOW).taken


def test_lease_holders_lists_only_live_leases_of_the_asked_rows(db):
    keys = [make_message() for _ in range(4)]
    take_review_lease(keys[0], holder="ana", ttl_s=100, now=NOW)
    take_review_lease(keys[1], holder="bo", ttl_s=10, now=NOW)
    take_review_lease(keys[3], holder="cy", ttl_s=100, now=NOW)
    assert lease_holders(keys[:3], now=NOW + 50) == {keys[0]: "ana"}
    assert lease_holders([], now=NOW) == {}


def test_bad_requests_are_refused_clearly(db):
    key = make_message()
    with pytest.raises(LeaseError, match="does not exist"):
        take_review_lease(987_654, holder="ana", now=NOW)
    with pytest.raises(LeaseError, match="holder"):
        take_review_lease(key, holder="  ", now=NOW)
    with pytest.raises(LeaseError, match="ttl_s"):
        take_review_lease(key, holder="ana", ttl_s=0, now=NOW)
    assert ReviewLease.select().count() == 0


def test_consoles_racing_for_a_free_message_get_exactly_one_lease(db):
    import threading

    from triage_tui.store.models import database

    key = make_message()
    results, errors = [], []
    start = threading.Barrier(6)

    def take(name):
        try:
            with database.connection_context():
                start.wait()
                results.append(take_review_lease(key, holder=name, now=NOW))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    workers = [threading.Thread(target=take, args=(f"console-{i}",)) for i in range(6)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == []
    winners = [r.holder for r in results if r.taken]
    assert len(winners) == 1
    assert {r.holder for r in results} == {winners[0]}
    assert lease_holders([key], now=NOW) == {key: winners[0]}
