"""What the app calls to read and send mail: the official nylas SDK with bounds, retries and types."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

import nylas

from triage_tui.config import NylasConfig
from triage_tui.domain import Header, InboundMessage, Reply, RuleEvaluation, SendResult, ThreadInfo
from triage_tui.nylas import sdk_probe
from triage_tui.nylas.errors import BadRequest, BadResponse, NotFound, map_exception
from triage_tui.nylas.normalize import (
    as_dict,
    normalize_folder,
    normalize_message,
    normalize_rule_evaluation,
    normalize_thread,
)
from triage_tui.nylas.retry import RateLimiter, RetryPolicy, shared_limiter
from triage_tui.nylas.types import Folder, MessagePage

T = TypeVar("T")
MAX_MESSAGE_LIMIT = 200
MAX_THREAD_LIMIT = 50
NOT_FOUND_RETRIES = 2
MAX_IDEMPOTENCY_KEY = 256


@dataclass
class GatewayStats:
    """Counters for tests, benchmarks and the status bar."""

    requests: int = 0
    retries: int = 0
    slept_s: float = 0.0


class Gateway:
    """The Nylas API (or the bundled sandbox) behind typed calls that retry and never leak `requests`."""

    def __init__(self, config: NylasConfig, api_key: str, *, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic, rng: random.Random | None = None,
                 limiter: RateLimiter | None = None) -> None:
        sdk_probe.install()
        self.config = config
        self.client = nylas.Client(api_key, api_uri=config.api_uri, timeout=config.timeout_s)
        self._sleep = sleep
        self.policy = RetryPolicy(max_retries=config.max_retries, max_backoff_s=config.max_backoff_s,
                                  rng=rng or random.Random())
        if limiter is None:
            real_time = sleep is time.sleep and clock is time.monotonic
            limiter = (shared_limiter(config.api_uri, config.max_requests_per_s) if real_time
                       else RateLimiter(config.max_requests_per_s, clock=clock, sleep=sleep))
        self.limiter = limiter
        self.stats = GatewayStats()
        self._stats_lock = threading.Lock()

    # -- reading -------------------------------------------------------------------------

    def get_grant(self, grant_id: str) -> dict:
        """The raw grant object (the SDK model would drop name, workspace_id and blocked)."""
        path = f"/v3/grants/{_segment(grant_id)}"
        payload, _headers = self._call(lambda: self.client.http_client._execute("GET", path))
        data = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(data, dict):
            raise BadResponse("grant response has no data object", retryable=False)
        return data

    def iter_message_pages(self, grant_id: str, *, received_after: int | None = None,
                           received_before: int | None = None, folder_id: str | None = None,
                           page_limit: int = 50, max_pages: int = 50, max_items: int | None = None,
                           with_headers: bool = True) -> Iterator[MessagePage]:
        """Pages of normalised messages, newest first as the API orders them, within the caps."""
        grant = _segment(grant_id)
        base = _query(received_after=received_after, received_before=received_before,
                      fields="include_headers" if with_headers else None)
        if folder_id:
            base["in"] = folder_id
        limit = max(1, min(MAX_MESSAGE_LIMIT, int(page_limit)))
        cursor: str | None = None
        seen: set[str] = set()
        for _page in range(max(0, max_pages)):
            remaining = None if max_items is None else max_items - len(seen)
            if remaining is not None and remaining <= 0:
                return
            params = dict(base, limit=limit if remaining is None else min(limit, remaining))
            if cursor:
                params["page_token"] = cursor
            items, cursor = self._get_json(f"/v3/grants/{grant}/messages", params, listing=True)
            messages, skipped = [], 0
            for item in items:
                message = normalize_message(item, grant_id)
                if not message.message_id or message.message_id in seen:
                    skipped += 1
                    continue
                seen.add(message.message_id)
                messages.append(message)
            yield MessagePage(messages=messages, next_cursor=cursor, skipped=skipped)
            if not cursor:
                return

    def get_message(self, grant_id: str, message_id: str) -> InboundMessage:
        """One message with its headers; a 404 is retried a couple of times (id churn)."""
        grant = _segment(grant_id)
        _require(message_id, "message id")
        params = {"fields": "include_headers"}
        data, _cursor = self._get_json(f"/v3/grants/{grant}/messages/{quote(message_id, safe='')}", params,
                                       not_found_retries=NOT_FOUND_RETRIES)
        message = normalize_message(data, grant_id)
        if not message.message_id:
            raise BadResponse("message response has no id", retryable=False)
        return message

    def get_thread(self, grant_id: str, thread_id: str) -> ThreadInfo:
        """One thread: its message ids, participants and dates."""
        grant = _segment(grant_id)
        _require(thread_id, "thread id")
        response = self._call(lambda: self.client.threads.find(grant, thread_id))
        return normalize_thread(response.data, grant_id)

    def iter_threads(self, grant_id: str, *, latest_message_after: int | None = None,
                     page_limit: int = 50, max_pages: int = 20) -> Iterator[ThreadInfo]:
        """Threads, page by page within the caps."""
        grant = _segment(grant_id)
        base = _query(latest_message_after=latest_message_after,
                      limit=max(1, min(MAX_THREAD_LIMIT, int(page_limit))))
        for data in self._pages(lambda p: self.client.threads.list(grant, query_params=p), base, max_pages):
            yield normalize_thread(data, grant_id)

    def list_folders(self, grant_id: str) -> list[Folder]:
        """Every folder of the grant (Agent Accounts: Inbox, Sent, Drafts, Trash, Junk, Archive)."""
        grant = _segment(grant_id)
        pages = self._pages(lambda p: self.client.folders.list(grant, query_params=p), {}, 10)
        return [folder for folder in map(normalize_folder, pages) if folder.id]

    def rule_evaluations(self, grant_id: str, *, message_ids: list[str] | None = None,
                         max_pages: int = 20) -> list[RuleEvaluation]:
        """What the Agent Account policy and rules did, optionally only for some messages."""
        grant = _segment(grant_id)
        wanted = set(message_ids) if message_ids is not None else None
        pages = self._pages(lambda p: self.client.rules.list_evaluations(grant, query_params=p),
                            {"limit": 200}, max_pages)
        evaluations = (normalize_rule_evaluation(item, grant_id) for item in pages)
        return [e for e in evaluations if wanted is None or e.message_id in wanted]

    # -- sending -------------------------------------------------------------------------

    def send_reply(self, reply: Reply, *, idempotency_key: str,
                   custom_headers: Iterable[Header] = ()) -> SendResult:
        """Send a reply in the original's thread; retries reuse the same Idempotency-Key."""
        _check_idempotency_key(idempotency_key)
        _require(reply.reply_to_message_id, "reply_to_message_id")
        body: dict[str, Any] = {
            "to": [_address(a) for a in reply.to],
            "subject": reply.subject,
            "body": reply.body,
            "is_plaintext": True,
            "reply_to_message_id": reply.reply_to_message_id,
            # Echoed back by every delivery-status webhook: how the event finds its outbox entry.
            "metadata": {"command_result_id": idempotency_key},
        }
        if reply.cc:
            body["cc"] = [_address(a) for a in reply.cc]
        headers = [_checked_header(h) for h in custom_headers]
        if headers:
            body["custom_headers"] = headers
        overrides = {"headers": {"Idempotency-Key": idempotency_key}}
        grant = _segment(reply.grant_id)
        response, status = self._call(
            lambda: self.client.messages.send(grant, body, overrides=overrides), with_status=True
        )
        sent = as_dict(response.data)
        replay = str((response.headers or {}).get("Idempotent-Response", "")).strip().lower() == "true"
        return SendResult(
            message_id=str(sent.get("id") or ""),
            thread_id=str(sent.get("thread_id") or ""),
            status_code=status or 200,
            idempotent_replay=replay,
            request_id=str(response.request_id or ""),
        )

    # -- plumbing ------------------------------------------------------------------------

    def _get_json(self, path: str, params: dict, *, listing: bool = False,
                  not_found_retries: int = 0) -> tuple[Any, str | None]:
        """A GET through the SDK's HTTP layer (its auth, URL building and errors), decoded as raw
        JSON: the SDK's dataclass models cost 20-40x the request, and one odd message would make
        them fail a whole page, while normalisation reads the JSON field by field."""
        payload, _headers = self._call(
            lambda: self.client.http_client._execute("GET", path, query_params=params),
            not_found_retries=not_found_retries)
        payload = payload if isinstance(payload, dict) else {}
        data = payload.get("data")
        if listing and not isinstance(data, list):
            raise BadResponse("list response has no data array", retryable=False)
        return data, (payload.get("next_cursor") or None)

    def _pages(self, fetch: Callable[[dict], Any], base: dict, max_pages: int) -> Iterator[Any]:
        cursor = None
        for _page in range(max(0, max_pages)):
            params = dict(base)
            if cursor:
                params["page_token"] = cursor
            response = self._call(lambda p=params: fetch(p))
            yield from response.data or []
            cursor = response.next_cursor or None
            if not cursor:
                return

    def _call(self, request: Callable[[], T], *, not_found_retries: int = 0,
              with_status: bool = False, policy: RetryPolicy | None = None) -> Any:
        policy = policy or self.policy
        retry_number = 0
        not_found_seen = 0
        while True:
            self.limiter.acquire()
            sdk_probe.reset()
            self._count(requests=1)
            try:
                result = request()
            except Exception as exc:  # noqa: BLE001 - every SDK failure becomes a GatewayError
                seen = sdk_probe.last()
                error = map_exception(exc, status=seen.status if seen else None,
                                      headers=seen.headers if seen else None)
                cause = exc
            else:
                if not with_status:
                    return result
                seen = sdk_probe.last()
                return result, (seen.status if seen else None)
            if isinstance(error, NotFound) and not_found_seen < not_found_retries:
                not_found_seen += 1
                delay = self.policy.rng.uniform(0.5, 1.0) * min(1.0, self.policy.base_s * not_found_seen)
            else:
                retry_number += 1
                delay = policy.delay(error, retry_number)
                if delay is None:
                    raise error from cause
            self._count(retries=1, slept_s=delay)
            self._sleep(delay)

    def _count(self, *, requests: int = 0, retries: int = 0, slept_s: float = 0.0) -> None:
        with self._stats_lock:
            self.stats.requests += requests
            self.stats.retries += retries
            self.stats.slept_s += slept_s


def _segment(identifier: str) -> str:
    """A grant id as one URL path segment (the SDK does not quote it)."""
    _require(identifier, "grant id")
    return quote(str(identifier), safe="@:")


def _require(value: str, what: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(f"{what} is empty")


def _query(**params: Any) -> dict[str, Any]:
    """Query params the API understands: no None, booleans as true/false, lists comma-joined."""
    query: dict[str, Any] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, list | tuple | set):
            value = ",".join(str(v) for v in value)
        query[key] = value
    return query


def _address(address: Any) -> dict[str, str]:
    entry = {"email": address.email}
    if address.name:
        entry["name"] = address.name
    return entry


def _check_idempotency_key(key: str) -> None:
    if not key or len(key) > MAX_IDEMPOTENCY_KEY or not key.isascii() or not key.isprintable():
        raise BadRequest(f"idempotency key must be 1-{MAX_IDEMPOTENCY_KEY} printable ASCII characters")


def _checked_header(header: Header) -> dict[str, str]:
    if any(c in header.name + header.value for c in "\r\n\x00") or not header.name.strip():
        raise BadRequest(f"custom header {header.name!r} is empty or contains a line break")
    return {"name": header.name, "value": header.value}
