"""What a verified notification says, field by field: a message's new flags and folders
(`message.updated`) or what became of one of our sends (the delivery-status triggers)."""

from __future__ import annotations

import json

from triage_tui.domain import DeliveryReport, MailUpdate

# trigger -> the outbox delivery status it reports
DELIVERY_STATUS = {"message.delivered": "delivered", "message.complaint": "complaint",
                   "message.bounced": "bounced", "message.rejected": "rejected", "message.send_failed": "failed"}
# The send metadata key that carries our command_result_id (echoed back by every delivery event).
METADATA_KEY = "command_result_id"
MAX_DETAIL = 1000


def is_delivery_trigger(trigger: str) -> bool:
    """True for message.delivered/bounced/complaint/rejected/send_failed (and their variants)."""
    return trigger.split(".truncated")[0] in DELIVERY_STATUS


def is_update_trigger(trigger: str) -> bool:
    """True for message.updated and its `.truncated`/`.transformed` variants."""
    return trigger.startswith("message.updated")


def payload_of(raw: bytes) -> dict:
    """The JSON object of a stored (already verified) notification body; {} when unreadable."""
    try:
        value = json.loads(bytes(raw).decode("utf-8"))
    except (ValueError, TypeError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _text(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def _int(value) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def delivery_report(trigger: str, payload: dict) -> DeliveryReport | None:
    """The delivery report in a notification, or None when it is not one."""
    status = DELIVERY_STATUS.get(trigger.split(".truncated")[0])
    if status is None:
        return None
    data = _dict(payload.get("data"))
    obj = _dict(data.get("object"))
    summary = _dict(obj.get("message")) if status != "failed" else obj
    metadata = _dict(summary.get("metadata"))
    at = _int(payload.get("time")) or 0.0
    if status == "delivered":
        part = _dict(obj.get("delivered"))
        at = _int(part.get("delivered_at")) or at
        detail = "delivered to " + ", ".join(str(r) for r in part.get("recipients") or [] if isinstance(r, str))
    elif status == "bounced":
        part = _dict(obj.get("bounce"))
        at = _int(part.get("bounced_at")) or at
        who = [f"{_text(r.get('email'))}: {_text(r.get('diagnostic_code'))}".rstrip(": ")
               for r in part.get("recipients") or [] if isinstance(r, dict)]
        detail = f"{_text(part.get('type')) or 'bounce'}: " + "; ".join(who)
    elif status == "complaint":
        part = _dict(obj.get("complaint"))
        at = _int(part.get("reported_at")) or at
        who = [str(r) for r in part.get("complained_recipients") or [] if isinstance(r, str)]
        detail = f"{_text(part.get('type')) or 'complaint'} from " + ", ".join(who)
    elif status == "rejected":
        at = _int(obj.get("rejected_at")) or at
        detail = "rejected: an attachment was refused (virus)"
    else:  # where reason and error sit in live traffic is unconfirmed: look in data and in data.object
        reason = _text(data.get("reason")) or _text(obj.get("reason"))
        error = _dict(data.get("error")) or _dict(obj.get("error"))
        detail = " - ".join(p for p in (reason, _text(error.get("type")), _text(error.get("message"))) if p)
        detail = detail or "the queued send failed"
    return DeliveryReport(status=status, message_id=_text(summary.get("id")),
                          command_result_id=_text(metadata.get(METADATA_KEY)),
                          detail=detail[:MAX_DETAIL], at=at)


def mail_update(payload: dict) -> MailUpdate | None:
    """The flags and folders of a message.updated payload, or None when it names no message."""
    obj = _dict(_dict(payload.get("data")).get("object"))
    message_id = _text(obj.get("id"))
    if not message_id:
        return None
    folders = obj.get("folders")
    folder_ids = tuple(str(f) for f in folders if isinstance(f, str)) if isinstance(folders, list) else None
    unread, starred = obj.get("unread"), obj.get("starred")
    return MailUpdate(message_id=message_id, folder_ids=folder_ids,
                      unread=unread if isinstance(unread, bool) else None,
                      starred=starred if isinstance(starred, bool) else None)
