"""Password hashes are right, and under gevent they run off the event loop."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading

from facilitation.accounts import passwords
from tests.live_server import ROOT


def test_hash_and_verify_round_trip():
    ph = passwords.hasher(1, 1024)
    stored = passwords.hash_password(ph, "correct horse battery")
    assert passwords.verify_password(ph, stored, "correct horse battery")
    assert not passwords.verify_password(ph, stored, "wrong horse battery")
    assert not passwords.verify_password(ph, "not a hash", "correct horse battery")


def test_without_gevent_the_work_runs_in_the_calling_thread():
    assert passwords.off_the_loop(threading.get_native_id) == threading.get_native_id()


def test_under_gevent_hashing_runs_in_a_real_thread_and_the_loop_keeps_going():
    # A separate interpreter: monkey-patching this one would change every other test.
    script = textwrap.dedent(
        """
        from gevent import monkey
        monkey.patch_all()
        import threading
        import gevent
        from facilitation.accounts import passwords

        ph = passwords.hasher(1, 8 * 1024)
        hub_thread = threading.get_native_id()
        ticks = []

        def ticker():
            while True:
                ticks.append(1)
                gevent.sleep(0)

        def hash_and_count():
            before = len(ticks)
            stored = passwords.off_the_loop(ph.hash, "correct horse battery")
            return len(ticks) - before, stored

        gevent.spawn(ticker)
        gevent.sleep(0)
        worker_thread = passwords.off_the_loop(threading.get_native_id)
        ticked, stored = hash_and_count()
        print(worker_thread != hub_thread, ticked > 0,
              passwords.verify_password(ph, stored, "correct horse battery"),
              passwords.verify_password(ph, stored, "wrong horse battery"))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    # In a worker thread; other greenlets ran while it hashed; the answers are right.
    assert result.stdout.split() == ["True", "True", "True", "False"], result.stderr
