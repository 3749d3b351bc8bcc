"""The outbox dispatcher: claim, re-check, send once with the Idempotency-Key, record with fencing."""

from __future__ import annotations

import logging
import time
from urllib.parse import urlparse

from pydantic import BaseModel

from triage_tui.config import Config, api_key
from triage_tui.domain import Header, OutboxState, Reply
from triage_tui.nylas.errors import Conflict, GatewayError
from triage_tui.ops import events
from triage_tui.outbound.claims import Claim, begin_send, claim_next, finish, now_or, reap, record_done
from triage_tui.outbound.content import ContentError, check_sendable, content_hash
from triage_tui.outbound.faults import fault_point
from triage_tui.outbound.policy import PolicyError, auto_reply_blockers, send_api_uri, sending_inbox
from triage_tui.outbound.recipients import compute_recipients
from triage_tui.store.outbox import addresses_from_json, load_original
from triage_tui.store.transient import log_failure, retrying

log = logging.getLogger(__name__)
MAX_BACKOFF_S = 300.0


class DispatchReport(BaseModel):
    """What one dispatcher pass did, for logs, the console and tests."""

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    refused: int = 0
    held: int = 0
    stale: int = 0
    reaped: int = 0
    needs_reconciliation: int = 0
    switch_on: bool = False
    errors: list[str] = []


def make_gateway(config: Config):
    """A gateway aimed at the only API this environment may send through."""
    from triage_tui.nylas.gateway import Gateway

    target = send_api_uri(config)
    return Gateway(config.nylas.model_copy(update={"api_uri": target}), api_key())


def dispatch_task(config: Config, *, owner: str):
    """The dispatcher as a worker task: each call sends what is approved and allowed right now."""
    state: dict = {}

    def task() -> None:
        if "gateway" not in state:
            state["gateway"] = make_gateway(config)
        dispatch_once(config, state["gateway"], owner=owner)

    return task


def check_gateway(config: Config, gateway) -> None:
    """PolicyError when the gateway points anywhere the environment does not allow."""
    allowed = send_api_uri(config)
    uri = getattr(getattr(gateway, "config", None), "api_uri", None)
    if uri is not None and config.environment == "test":
        if urlparse(uri.rstrip("/"))[:2] != urlparse(allowed.rstrip("/"))[:2]:
            raise PolicyError(f"environment is \"test\": the gateway points at {uri}, not {allowed}")


def outbound_headers(claim: Claim) -> list[Header]:
    """Loop-breaking headers, our ticket marker and the key a human can reconcile with."""
    row = claim.row
    headers = [
        Header(name="X-Auto-Response-Suppress", value="OOF, AutoReply"),
        Header(name="X-Triage-Ticket", value=row.ticket_id or "none"),
        Header(name="X-Triage-Reply-Key", value=row.command_result_id),
    ]
    if row.kind == "acknowledgement":
        headers.append(Header(name="Auto-Submitted", value="auto-replied"))
    return headers


def _reply(claim: Claim) -> Reply:
    row = claim.row
    return Reply(grant_id=row.grant_id, reply_to_message_id=row.reply_to_message_id,
                 to=addresses_from_json(row.to_addrs), cc=addresses_from_json(row.cc_addrs),
                 subject=row.subject, body=row.body)


def refusal(config: Config, claim: Claim) -> str:
    """Why this claimed entry must not be sent as stored (drift, policy, recipients), or ""."""
    reply = _reply(claim)
    row = claim.row
    digest = content_hash(grant_id=reply.grant_id, to=reply.to, cc=reply.cc, subject=reply.subject,
                          body=reply.body, reply_to_message_id=reply.reply_to_message_id)
    if digest != row.content_hash:
        return "the entry changed after approval (content hash mismatch); approve it again"
    try:
        inbox = sending_inbox(config, row.grant_id)
        check_sendable(reply.subject, reply.body, [*reply.to, *reply.cc])
    except (PolicyError, ContentError) as exc:
        return str(exc)
    if len(reply.to) + len(reply.cc) > config.outbound.max_recipients or reply.cc or not reply.to:
        return "recipient count or cc outside policy"
    found = load_original(row.grant_id, row.reply_to_message_id)
    if found is None:
        return "the original message is no longer in the store"
    if row.kind == "acknowledgement" and auto_reply_blockers(found[0]):
        return f"no automatic acknowledgement: {auto_reply_blockers(found[0])[0]}"
    own = tuple(i.email for i in config.inboxes)
    choice = compute_recipients(found[0], config.outbound, agent_email=inbox.email, own_emails=own)
    allowed = {a.email for a in choice.to} | {a.email for a in choice.alternatives}
    if any(a.email not in allowed for a in reply.to):
        return "a recipient is not one code computed from the original message"
    return ""


def _backoff(error: Exception, attempts: int) -> float:
    hint = getattr(error, "retry_after", None)
    if hint is not None:
        return min(MAX_BACKOFF_S, float(hint))
    return min(MAX_BACKOFF_S, 5.0 * 2 ** max(0, attempts - 1))


def _send(config: Config, gateway, claim: Claim, clock, report: DispatchReport) -> None:
    now = clock()
    lease = config.outbound.lease_s
    why = retrying(refusal, config, claim)
    if why:
        if finish(claim, now, "outbox.refused", from_states=("claimed",), detail={"reason": why},
                  state=OutboxState.REFUSED.value, lease_owner="", last_error=why):
            report.refused += 1
        return
    started = begin_send(claim, now, lease)
    if started != "started":
        report.held += started == "held"
        report.stale += started == "stale"
        return
    fault_point("after_send_started")
    try:
        result = gateway.send_reply(_reply(claim), idempotency_key=claim.row.command_result_id,
                                    custom_headers=outbound_headers(claim))
    except Exception as exc:  # noqa: BLE001 - every failure is recorded and shown, none is buried
        _record_failure(config, claim, exc, clock(), report)
        return
    fault_point("after_http")
    # The reply is out: its record is retried until it commits, and wins over a lost lease.
    sent_at = clock()
    done = record_done(claim, "outbox.sent", clock,
                       detail={"sent_message_id": result.message_id, "idempotent_replay": result.idempotent_replay,
                               "status": result.status_code},
                       state=OutboxState.SENT.value, sent_at=sent_at, sent_message_id=result.message_id,
                       lease_owner="", last_error="")
    report.sent += done
    if done:
        events.sent(claim.row)
    report.stale += not done
    fault_point("after_record")


def _record_failure(config: Config, claim: Claim, exc: Exception, now: float, report: DispatchReport) -> None:
    message = f"{type(exc).__name__}: {exc}"[:500]
    report.errors.append(message)
    if isinstance(exc, Conflict) and not exc.retryable:
        state, action = OutboxState.NEEDS_RECONCILIATION, "outbox.needs_reconciliation"
    elif isinstance(exc, GatewayError) and not exc.retryable:
        state, action = OutboxState.FAILED, "outbox.failed"
    else:
        state, action = OutboxState.RETRY, "outbox.send_failed"
    events.send_failed(claim.row, state.value, message)
    values = dict(state=state.value, lease_owner="", last_error=message)
    if state is OutboxState.RETRY:
        values["lease_expires_at"] = now + _backoff(exc, claim.row.attempts)
    done = finish(claim, now, action, detail={"error": message, "retryable": state is OutboxState.RETRY},
                  **values)
    if not done:
        report.stale += 1
    elif state is OutboxState.RETRY:
        report.retried += 1
    elif state is OutboxState.FAILED:
        report.failed += 1
    else:
        report.needs_reconciliation += 1


def dispatch_once(config: Config, gateway, *, owner: str, now=None, max_entries: int = 20) -> DispatchReport:
    """Reap expired leases, then claim and send up to max_entries approved replies."""
    report = DispatchReport()
    try:
        check_gateway(config, gateway)
    except PolicyError as exc:
        report.errors.append(str(exc))
        return report
    fixed = None if now is None else now_or(now)
    clock = (lambda: fixed) if fixed is not None else time.time
    report.reaped, report.needs_reconciliation = reap(config, clock(), actor=owner)
    for _ in range(max_entries):
        claim, switch_on = claim_next(config, owner, clock())
        if switch_on:
            report.switch_on = True
            break
        if claim is None:
            break
        report.claimed += 1
        fault_point("after_claim")
        _send(config, gateway, claim, clock, report)
    return report


def run_dispatcher(config: Config, gateway, *, owner: str, stop, idle_s: float = 1.0) -> None:
    """Dispatch until `stop` (a threading.Event) is set, resting `idle_s` when nothing went."""
    while not stop.is_set():
        try:
            report = dispatch_once(config, gateway, owner=owner)
        except Exception as exc:  # noqa: BLE001 - a worker loop logs and keeps going; entries keep their state
            log_failure(log, "dispatcher pass failed", exc)
            report = DispatchReport()
        for error in report.errors:
            log.warning("send problem: %s", error)
        if report.claimed == 0:
            stop.wait(idle_s)
