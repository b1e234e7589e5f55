"""Ticket codes, pure: what a QR code holds, reading scans back, refusing garbage; QR images."""

import xml.etree.ElementTree as ET

import pytest

from facilitation.attendance.ticket_codes import (
    UnreadableCode,
    new_token,
    parse_scanned,
    qr_content,
    qr_png,
    qr_svg,
    read_code,
)

TOKEN = "AbCdEfGhIjKlMnOpQrStUv_-"


def test_tokens_are_24_url_safe_characters_and_never_repeat():
    tokens = {new_token() for _ in range(200)}
    assert len(tokens) == 200
    assert all(len(t) == 24 and parse_scanned(t) == t for t in tokens)


@pytest.mark.parametrize(
    "scanned",
    [
        f"GW1:{TOKEN}",
        f"  gw1:{TOKEN}\n",
        f"https://gatherwell.example.org/t/{TOKEN}",
        f"http://localhost:5000/t/{TOKEN}/",
        f"https://example.org/community/t/{TOKEN}?utm_source=mail",
        TOKEN,
    ],
)
def test_every_form_of_a_ticket_code_reads_back_the_token(scanned):
    assert read_code(scanned) == TOKEN
    assert parse_scanned(scanned) == TOKEN


def test_the_qr_code_holds_the_tagged_token():
    assert qr_content(TOKEN) == f"GW1:{TOKEN}"
    assert read_code(qr_content(TOKEN)) == TOKEN


@pytest.mark.parametrize(
    ("scanned", "code"),
    [
        ("", "empty_code"),
        ("   ", "empty_code"),
        ("hello", "unreadable_code"),
        ("GW1:", "unreadable_code"),
        (f"GW1:{TOKEN}x", "unreadable_code"),  # one character too many
        (f"GW1:{TOKEN[:-1]}", "unreadable_code"),
        (f"GW1:{TOKEN[:-1]}!", "unreadable_code"),
        ("GW1:<script>alert(1)</script>xxxxxx", "unreadable_code"),
        (f"GW2:{TOKEN}", "unknown_format"),
        (f"https://example.org/tickets/{TOKEN}", "unreadable_code"),
        (f"https://example.org/t/{TOKEN}/extra", "unreadable_code"),
        (f"javascript:alert('{TOKEN}')", "unreadable_code"),
        ("WIFI:S:venue;T:WPA;P:secret;;", "unreadable_code"),
        ("4006381333931", "unreadable_code"),  # a product barcode
        ("x" * 5000, "unreadable_code"),
        ("12", "unreadable_code"),  # a registration id is not a ticket
    ],
)
def test_garbage_and_forged_codes_are_refused_with_a_reason(scanned, code):
    with pytest.raises(UnreadableCode) as caught:
        read_code(scanned)
    assert caught.value.code == code
    assert scanned.strip() == "" or scanned not in caught.value.message
    assert parse_scanned(scanned) is None


def test_the_qr_svg_is_one_accessible_element_black_on_white():
    svg = qr_svg(TOKEN)
    assert svg.startswith("<svg") and "<?xml" not in svg
    root = ET.fromstring(svg)
    assert root.find("{http://www.w3.org/2000/svg}title").text == "Ticket QR code"
    assert 'class="ticket-qr"' in svg and "#fff" in svg


def test_the_qr_png_is_a_png_and_scales():
    small, large = qr_png(TOKEN, scale=2), qr_png(TOKEN, scale=10)
    assert small.startswith(b"\x89PNG\r\n\x1a\n") and large.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(large) > len(small)
