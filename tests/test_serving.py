"""Serving: a busy port gives one clear line, not a traceback; each request logs one line."""

import re
import socket
import subprocess
import sys

from facilitation.core.ports import port_problem
from tests.live_server import PATIENCE_S, ROOT, ServerProcess


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


def test_the_server_logs_one_readable_line_per_request(tmp_path):
    server = ServerProcess({"FACILITATION_INSTANCE_PATH": str(tmp_path)}, log_dir=tmp_path)
    try:
        server.start()  # it asks for /log-in until the server answers
    finally:
        server.stop()
    lines = [line for line in server.log().splitlines() if "facilitation.requests" in line]
    assert lines, server.log()[-2000:]
    assert re.fullmatch(
        r"\d\d:\d\d:\d\d INFO facilitation.requests: GET /log-in 200 \d+ ms", lines[-1]
    )
