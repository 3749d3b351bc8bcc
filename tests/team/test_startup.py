"""Several processes opening one fresh PostgreSQL store at once all start (migrations take turns)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OPENERS = 4
SCRIPT = """
import sys, time
from triage_tui.store.db import open_url
deadline = float(sys.argv[2])
while time.time() < deadline:
    pass
open_url(sys.argv[1])
print("open")
"""


def test_workers_starting_together_on_a_fresh_database_all_open_it(postgres_only):
    import psycopg2
    import time

    conn = psycopg2.connect(postgres_only)
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
    conn.close()
    start_at = str(time.time() + 2.0)  # every process imports first, then opens at the same instant
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    processes = [subprocess.Popen([sys.executable, "-c", SCRIPT, postgres_only, start_at], cwd=ROOT, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(OPENERS)]
    results = [p.communicate(timeout=60) for p in processes]
    assert [p.returncode for p in processes] == [0] * OPENERS, [err.decode()[-400:] for _, err in results]
    assert all(out.strip() == b"open" for out, _ in results)
