"""Remember the HTTP status and headers of the last SDK response on this thread.

The nylas SDK returns neither the status of a success (200 vs 202 accepted-and-queued) nor
anything at all about a non-JSON error page (it raises `requests` JSONDecodeError before
looking at the status). A behaviour-preserving wrapper around the SDK's module-level
`_validate_response` records both per thread, so the gateway can type those answers.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from nylas.handler import http_client as _sdk_http

_local = threading.local()
_install_lock = threading.Lock()


@dataclass(frozen=True)
class LastResponse:
    """Status and headers of the most recent SDK response seen on this thread."""

    status: int
    headers: dict[str, str]


def install() -> None:
    """Wrap the SDK's response validator once per process; later calls do nothing."""
    with _install_lock:
        original = _sdk_http._validate_response
        if getattr(original, "_records_status", False):
            return

        def recording_validate(response):  # type: ignore[no-untyped-def]
            try:
                headers = {str(k).lower(): str(v) for k, v in response.headers.items()}
                _local.last = LastResponse(int(response.status_code), headers)
            except Exception:  # noqa: BLE001 - recording must never change SDK behaviour
                _local.last = None
            return original(response)

        recording_validate._records_status = True  # type: ignore[attr-defined]
        _sdk_http._validate_response = recording_validate


def reset() -> None:
    """Forget the last response of this thread (call before each request)."""
    _local.last = None


def last() -> LastResponse | None:
    """The last response recorded on this thread since `reset`, if any."""
    return getattr(_local, "last", None)
