"""Risk policy, approvals bound to content, the outbox dispatcher and the stop switch."""
