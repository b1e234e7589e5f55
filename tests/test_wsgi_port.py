"""A busy port gives one clear line, not a traceback."""

import socket
import subprocess
import sys

from facilitation.core.ports import port_problem
from tests.live_server import PATIENCE_S, ROOT


def test_a_free_port_has_no_problem():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert port_problem("127.0.0.1", port) is None


def test_a_busy_port_is_said_in_one_line_and_the_server_exits():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "wsgi.py", "--port", str(port)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=PATIENCE_S,
        )
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        f"Port {port} on 127.0.0.1 is already in use (another Gatherwell, or another program): "
        f"stop it, or serve on another port, e.g. make run PORT={port + 1}"
    ]
