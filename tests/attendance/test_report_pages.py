"""The report pages and their CSVs, read against the constructed weekly series.

The series and its true figures are described in ``test_report_queries``; these tests check
that what an organiser sees and downloads says the same, and who may see it.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest

from facilitation.accounts.models import Role
from facilitation.attendance import report_views
from facilitation.extensions import db
from tests.attendance.factories import door_volunteer
from tests.attendance.test_report_queries import after_all, weekly  # noqa: F401
from tests.factories import make_gathering, make_user


@pytest.fixture
def later(weekly, monkeypatch):  # noqa: F811
    """Read the pages a day after the last occurrence; return the built series."""
    _, _, _, weeks = weekly
    monkeypatch.setattr(report_views, "utcnow", lambda: after_all(weeks))
    return weekly


def text(response: Any) -> str:
    """Return a response's body as text."""
    return response.get_data(as_text=True)


def figure(page: str, name: str) -> str:
    """Return the value the page shows for one marked figure."""
    found = re.search(rf'data-figure="{name}">([^<]*)<', page)
    assert found, name
    return found.group(1)


def rows_of(response: Any) -> list[list[str]]:
    """Check a CSV download and return its rows."""
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment; filename=" in response.headers["Content-Disposition"]
    body = response.get_data().decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


def test_the_gathering_page_shows_week_fours_true_figures(client, auth, later):
    organiser, _, _, weeks = later
    auth.login(organiser)
    page = text(client.get(f"/manage/gatherings/{weeks[4].id}/report"))
    shown = {
        name: figure(page, name)
        for name in ("registered", "checked-in", "no-shows", "walk-ins", "waitlist", "first-timers")
    }
    assert shown == {
        "registered": "5",
        "checked-in": "4",
        "no-shows": "1",
        "walk-ins": "1",
        "waitlist": "1",
        "first-timers": "1",
    }
    assert re.search(r'data-revenue="Door">[^<]*25\.00', page)
    assert "=A Person" in page and "G Person" in page


def test_the_gathering_csvs_match_the_page(client, auth, later):
    organiser, _, _, weeks = later
    auth.login(organiser)
    summary = rows_of(client.get(f"/manage/gatherings/{weeks[4].id}/report-summary.csv"))
    assert summary[0] == ["Measure", "Value"]
    values = dict(row for row in summary[1:] if len(row) == 2)
    assert (values["Registered"], values["Checked in"], values["No-shows"]) == ("5", "4", "1")
    assert (values["Walk-ins"], values["Waitlist"], values["First-timers"]) == ("1", "1", "1")
    assert "25.00" in values["Revenue: Door (EUR)"]
    people = rows_of(client.get(f"/manage/gatherings/{weeks[4].id}/report-people.csv"))
    by_name = {row[0]: row for row in people[1:]}
    assert "'=A Person" in by_name  # a formula-looking name stays text
    assert by_name["F Person"][5:] == ["yes", "yes"]
    assert by_name["G Person"][4] == ""


def test_the_series_page_shows_the_chart_and_the_hand_count(client, auth, later):
    organiser, series, _, weeks = later
    auth.login(organiser)
    page = text(client.get(f"/manage/series/{series.id}/report"))
    assert "<svg" in page and "15 check-ins by 6 people" in page
    assert "<script" not in page.split("<main", 1)[1].split("</main>", 1)[0]
    rows = re.findall(
        r'<tr data-gathering="(\d+)">.*?<td class="num">(\d+)</td><td class="num">(\d+)</td>',
        page,
        re.S,
    )
    assert [(int(g), int(a), int(n)) for g, a, n in rows] == [
        (weeks[w].id, attended, new)
        for w, attended, new in zip(range(1, 6), [3, 3, 2, 4, 3], [3, 1, 1, 1, 0], strict=True)
    ]


def test_the_series_csv_matches_the_hand_count(client, auth, later):
    organiser, series, _, _ = later
    auth.login(organiser)
    rows = rows_of(client.get(f"/manage/series/{series.id}/report.csv"))
    assert [row[2] for row in rows[1:6]] == ["3", "3", "2", "4", "3"]
    assert [row[3] for row in rows[1:6]] == ["3", "1", "1", "1", "0"]
    assert [row[6] for row in rows[1:6]] == ["3", "3", "1", "2", ""]
    retention = rows[rows.index(["Occurrences attended", "People"]) + 1 :]
    assert retention == [["1", "1"], ["2", "3"], ["3", "1"], ["5", "1"]]


def test_a_persons_history_page_and_csv(client, auth, later):
    organiser, _, people, _ = later
    auth.login(organiser)
    b = people["B"]
    page = text(client.get(f"/manage/people/{b.id}/history"))
    assert (figure(page, "attended"), figure(page, "no-shows")) == ("3", "1")
    rows = rows_of(client.get(f"/manage/people/{b.id}/history.csv"))
    assert rows[0][0] == "Date (UTC)" and len(rows) == 5  # weeks 1, 2, 4 and 5
    assert sum(1 for row in rows[1:] if row[3]) == 3


def test_the_gathering_report_links_people_to_their_history(client, auth, later):
    organiser, _, people, weeks = later
    auth.login(organiser)
    page = text(client.get(f"/manage/gatherings/{weeks[4].id}/report"))
    assert f"/manage/people/{people['G'].id}/history" in page


# --- who may see them --------------------------------------------------------------------


def _pages(series, weeks, person) -> list[str]:
    g = weeks[4].id
    return [
        f"/manage/gatherings/{g}/report",
        f"/manage/gatherings/{g}/report-summary.csv",
        f"/manage/gatherings/{g}/report-people.csv",
        f"/manage/series/{series.id}/report",
        f"/manage/series/{series.id}/report.csv",
        f"/manage/people/{person.id}/history",
        f"/manage/people/{person.id}/history.csv",
    ]


def test_logged_out_people_are_sent_to_log_in(client, later):
    _, series, people, weeks = later
    for url in _pages(series, weeks, people["B"]):
        response = client.get(url)
        assert response.status_code == 302 and "/log-in" in response.headers["Location"], url


@pytest.mark.parametrize("role", [Role.PARTICIPANT, Role.DOOR, Role.FACILITATOR])
def test_others_are_refused(client, auth, later, role):
    _, series, people, weeks = later
    auth.login(make_user(role))
    db.session.commit()
    for url in _pages(series, weeks, people["B"]):
        assert client.get(url).status_code == 403, url


def test_a_facilitator_sees_the_gatherings_they_facilitate_only(client, auth, later):
    _, series, people, weeks = later
    facilitator = make_user(Role.FACILITATOR)
    weeks[4].facilitators.append(facilitator)
    db.session.commit()
    auth.login(facilitator)
    assert client.get(f"/manage/gatherings/{weeks[4].id}/report").status_code == 200
    assert client.get(f"/manage/gatherings/{weeks[3].id}/report").status_code == 403
    assert client.get(f"/manage/series/{series.id}/report").status_code == 403
    assert client.get(f"/manage/people/{people['B'].id}/history").status_code == 403


def test_a_series_facilitator_sees_the_series_report(client, auth, later):
    _, series, _, _ = later
    facilitator = make_user(Role.FACILITATOR)
    series.facilitators.append(facilitator)
    db.session.commit()
    auth.login(facilitator)
    assert client.get(f"/manage/series/{series.id}/report").status_code == 200


def test_a_person_may_read_their_own_history(client, auth, later):
    _, _, people, _ = later
    auth.login(people["B"])
    assert client.get(f"/manage/people/{people['B'].id}/history").status_code == 200
    assert client.get(f"/manage/people/{people['C'].id}/history").status_code == 403


def test_door_volunteers_are_refused_even_with_a_gathering_in_hand(client, auth, app):
    gathering = make_gathering(capacity=3)
    door = door_volunteer()
    db.session.commit()
    auth.login(door)
    assert client.get(f"/manage/gatherings/{gathering.id}/report").status_code == 403


@pytest.mark.parametrize(
    "url",
    [
        "/manage/gatherings/999999/report",
        "/manage/gatherings/999999/report-summary.csv",
        "/manage/gatherings/999999/report-people.csv",
        "/manage/series/999999/report",
        "/manage/series/999999/report.csv",
        "/manage/people/999999/history",
        "/manage/people/999999/history.csv",
    ],
)
def test_unknown_ids_are_not_found(client, auth, app, url):
    organiser = make_user(Role.ORGANISER)
    db.session.commit()
    auth.login(organiser)
    assert client.get(url).status_code == 404


def test_a_series_with_nothing_held_yet(client, auth, weekly):  # noqa: F811
    organiser, series, _, _ = weekly
    auth.login(organiser)
    # Read at the real clock: the series starts a week from now.
    page = text(client.get(f"/manage/series/{series.id}/report"))
    assert "No occurrence has taken place yet." in page
