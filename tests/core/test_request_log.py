"""The server logs one readable line per request: method, path, status, milliseconds."""

import logging
import re


def request_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "facilitation.requests"]


def test_each_request_is_one_line_with_method_path_status_and_time(client, caplog):
    with caplog.at_level(logging.INFO, logger="facilitation.requests"):
        client.get("/log-in")
        client.get("/no-such-page")
    first, second = request_lines(caplog)
    assert re.fullmatch(r"GET /log-in 200 \d+ ms", first), first
    assert re.fullmatch(r"GET /no-such-page 404 \d+ ms", second), second


def test_a_secret_in_the_path_is_not_logged(client, caplog):
    with caplog.at_level(logging.INFO, logger="facilitation.requests"):
        client.get("/reset-password/not-a-real-token-but-secret")
    [line] = request_lines(caplog)
    assert "not-a-real-token-but-secret" not in line
    assert line.startswith("GET /reset-password/… ")
