"""A Nylas v3 compatible local server with a seeded mailbox; it speaks HTTP only."""
