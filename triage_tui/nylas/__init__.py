"""The gateway over the official nylas SDK, and webhook verification."""
