"""The suite stops what it starts: a process a test leaves running is stopped and named."""

import subprocess
import sys

from tests import children

SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]


def test_a_process_left_running_is_named_and_stopped():
    position = children.mark()
    process = children.spawn("sleeper", SLEEPER)
    try:
        assert any("sleeper (pid" in line for line in children.leftovers())
        stopped = children.stop_started_since(position)
        assert stopped == [f"sleeper (pid {process.pid}: {' '.join(SLEEPER)})"]
        assert process.poll() is not None
        assert not any("sleeper" in line for line in children.leftovers())
    finally:
        children.stop_process(process)


def test_a_child_started_without_spawn_is_found_too():
    process = subprocess.Popen(SLEEPER)
    try:
        assert any(
            line.startswith(f"untracked child pid {process.pid}:") for line in children.leftovers()
        )
    finally:
        children.stop_process(process)
    assert not any(str(process.pid) in line for line in children.leftovers())


def test_a_frozen_process_is_stopped():
    process = children.spawn("frozen", SLEEPER)
    process.send_signal(19)  # SIGSTOP, as ServerProcess.freeze does
    children.stop_process(process, grace_s=30)
    assert process.poll() is not None
