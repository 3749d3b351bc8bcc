"""Provisioning: from an API key to a guarded Agent Account, a webhook and a config (init, doctor, accounts)."""
