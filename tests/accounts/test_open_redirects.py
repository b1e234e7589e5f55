"""No open redirects: ``next`` after log-in and sign-up, and every other redirect we build.

The check that matters is where a *browser* would go, so Locations are resolved the way
browsers read them (tabs and newlines dropped, backslashes taken as slashes).
"""

from __future__ import annotations

from itertools import count
from urllib.parse import urljoin, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from facilitation.core.web import safe_next
from facilitation.extensions import db
from tests.exercises.live_helpers import make_run
from tests.factories import PASSWORD, make_gathering, make_user

HOST = "gatherwell.test"  # SERVER_NAME of the test app
BASE = f"http://{HOST}/log-in"

#: Targets that lead off the site (or would, once a browser tidied them up).
EVIL = [
    "https://evil.example/",
    "http://evil.example",
    "HTTPS://evil.example",
    "//evil.example",
    "//evil.example/path?x=1",
    "///evil.example",
    "////evil.example",
    "/\\evil.example",
    "\\/evil.example",
    "\\\\evil.example",
    "/\\/evil.example",
    "https:evil.example",
    "https:/evil.example",
    "https:\\\\evil.example",
    "http:evil.example",
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r/evil.example",
    "/\r\n/evil.example",
    " //evil.example",
    "\t//evil.example",
    "\x00//evil.example",
    "/\x00/evil.example",
    "evil.example",
    "@evil.example",
    "%2F%2Fevil.example",
    "%2f%5cevil.example",
    "/ok\r\nSet-Cookie: stolen=1",
    "/ok\nLocation: https://evil.example",
]

#: The same attacks as they arrive in a raw query string (decoded once by the server).
ENCODED_QUERIES = [
    "next=%2F%2Fevil.example",
    "next=%2F%2F%2Fevil.example",
    "next=%2F%5Cevil.example",
    "next=%5C%5Cevil.example",
    "next=https%3Aevil.example",
    "next=https%3A%2F%2Fevil.example",
    "next=%2F%09%2Fevil.example",
    "next=%2F%0A%2Fevil.example",
    "next=%2F%0D%0A%2Fevil.example",
    "next=%2Fok%0D%0ASet-Cookie%3A%20stolen%3D1",
    "next=%252F%252Fevil.example",
    "next=%2F%252F%2Fevil.example",
    "next=//evil.example",
    "next=/%2F/evil.example",
    "next=/%5C/evil.example",
    "next=%00//evil.example",
    "next=%E3%80%82//evil.example",
    "next=%C0%AF%C0%AFevil.example",
    "next=/&next=//evil.example",
]

#: Local paths that must be kept, and the Location each one becomes.
LOCAL = {
    "/account": "/account",
    "/gatherings/7#register": "/gatherings/7#register",
    "/manage/people?q=Ann Smith": "/manage/people?q=Ann%20Smith",
    "/gatherings/7?next=//evil.example": "/gatherings/7?next=//evil.example",
    "/%2F/evil.example": "/%2F/evil.example",
    "/caf\u00e9": "/caf%C3%A9",
}


def browser_target(location: str, base: str = BASE) -> str:
    """Return the absolute URL a browser would follow for ``location`` (WHATWG-style tidy)."""
    tidy = location.strip("".join(chr(c) for c in range(33)))
    tidy = tidy.replace("\t", "").replace("\n", "").replace("\r", "").replace("\\", "/")
    return urljoin(base, tidy)


def stays_on_site(location: str) -> bool:
    """Return whether following ``location`` from our page keeps the browser on our host."""
    parts = urlsplit(browser_target(location))
    return parts.scheme in {"http", "https"} and parts.netloc == HOST


@pytest.mark.parametrize("target", EVIL)
def test_safe_next_refuses_targets_off_the_site(target):
    assert safe_next(target, "/home") == "/home"


@pytest.mark.parametrize(("target", "expected"), LOCAL.items())
def test_safe_next_keeps_local_paths_as_ascii(target, expected):
    assert safe_next(target, "/home") == expected


def test_safe_next_uses_the_default_when_there_is_no_target():
    assert safe_next(None, "/home") == "/home"
    assert safe_next("", "/home") == "/home"


def test_the_browser_model_would_catch_an_escape():
    """The oracle itself: the tidy-up makes the classic tricks leave the site."""
    for trick in ("//evil.example", "/\\evil.example", "/\t/evil.example", "https:evil.example"):
        assert not stays_on_site(trick), trick
    assert stays_on_site("/account")


@given(st.text(max_size=40))
def test_whatever_comes_in_the_browser_stays_on_the_site(target):
    result = safe_next(target, "/home")
    assert stays_on_site(result)
    assert result.isascii() and result.isprintable()


@given(
    st.lists(
        st.sampled_from(["/", "\\", "//", "\t", "\n", ":", "@", ".", "%2F", "%5C", "evil", "x"]),
        max_size=8,
    ).map("".join)
)
def test_slash_and_colon_soup_stays_on_the_site(target):
    assert stays_on_site(safe_next(target, "/home"))


_emails = count(1)


def _address(n: int) -> dict[str, str]:
    """Give each sign-up its own client address, so sign-up rate limits stay out of the way."""
    return {"REMOTE_ADDR": f"198.51.{n // 250 % 250}.{n % 250 + 1}"}


def _log_in(client, user, query: str):
    return client.post(f"/log-in?{query}", data={"email": user.email, "password": PASSWORD})


def _sign_up(client, query: str):
    n = next(_emails)
    return client.post(
        f"/sign-up?{query}",
        environ_base=_address(n),
        data={
            "email": f"newcomer{n}@example.org",
            "name": f"New Comer {n}",
            "display_name": "New",
            "password": PASSWORD,
        },
    )


@pytest.fixture
def member():
    """Give a committed participant account."""
    user = make_user()
    db.session.commit()
    return user


def _went_home_or_was_refused(response, target: str) -> None:
    """A NUL byte gets a 400 with no redirect at all (core/bad_input.py); else a 302 home."""
    if "\x00" in target or "%00" in target:
        assert response.status_code == 400, repr(target)
        assert "Location" not in response.headers, repr(target)
    else:
        assert response.status_code == 302, repr(target)
        assert response.headers["Location"] == "/", repr(target)


def test_log_in_refuses_every_evil_next(client, member):
    for target in EVIL:
        response = client.post(
            "/log-in",
            query_string={"next": target},
            data={"email": member.email, "password": PASSWORD},
        )
        _went_home_or_was_refused(response, target)
        client.post("/log-out")


def test_log_in_refuses_encoded_next(client, member):
    for query in ENCODED_QUERIES:
        response = _log_in(client, member, query)
        if "%00" in query:
            assert response.status_code == 400 and "Location" not in response.headers, query
            continue
        assert response.status_code == 302, query
        location = response.headers["Location"]
        assert stays_on_site(location), (query, location)
        client.post("/log-out")


def test_log_in_keeps_a_local_next(client, member):
    for target, expected in LOCAL.items():
        response = client.post(
            "/log-in",
            query_string={"next": target},
            data={"email": member.email, "password": PASSWORD},
        )
        assert response.headers["Location"] == expected, target
        client.post("/log-out")


def test_sign_up_with_these_fields_creates_an_account(client):
    """Guard for the tests below: a sign-up with these fields really creates an account."""
    response = _sign_up(client, "next=/account")
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"] == "/account"


def test_sign_up_refuses_every_evil_next(client):
    for target in EVIL:
        n = next(_emails)
        response = client.post(
            "/sign-up",
            query_string={"next": target},
            environ_base=_address(n),
            data={
                "email": f"newcomer{n}@example.org",
                "name": f"New Comer {n}",
                "display_name": "New",
                "password": PASSWORD,
            },
        )
        _went_home_or_was_refused(response, target)
        client.post("/log-out")


def test_sign_up_refuses_encoded_next(client):
    for query in ENCODED_QUERIES:
        response = _sign_up(client, query)
        if "%00" in query:
            assert response.status_code == 400 and "Location" not in response.headers, query
            continue
        assert response.status_code == 302, query
        assert stays_on_site(response.headers["Location"]), query
        client.post("/log-out")


def test_log_in_page_links_carry_next_to_the_form(client):
    """The log-in form posts back to the same URL, so ``next`` survives the form."""
    html = client.get("/log-in?next=/account").get_data(as_text=True)
    assert '<form method="post"' in html
    assert "action=" not in html.split('<form method="post"', 1)[1].split(">", 1)[0]


def test_login_required_sends_a_local_next(client):
    response = client.get("/account")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert stays_on_site(location)
    assert "next=" in location


def test_join_code_sends_a_local_next(client):
    """/join/<code> for a guest goes to log-in with a next on this site."""
    run, _facilitator, _people = make_run(people=2)
    response = client.get(f"/join/{run.join_code}")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert stays_on_site(location)
    next_value = location.split("next=", 1)[1]
    assert next_value.startswith("/") or next_value.startswith("%2F")


def test_boundaries_for_a_gathering_redirects_to_itself(client, member):
    """The boundaries form redirects to its own path, which carries no foreign host."""
    gathering = make_gathering()
    db.session.commit()
    _log_in(client, member, "")
    response = client.post(
        f"/account/boundaries?gathering={gathering.id}&x=//evil.example",
        data={"touch": "0", "eye_contact": "1", "partner_preference": "any"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    location = response.headers["Location"]
    assert location.startswith("/account/boundaries?"), location
    assert stays_on_site(location)
