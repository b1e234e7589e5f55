"""Reports from the database: a weekly series built through the services, counted by hand.

Five weekly occurrences (a sixth is cancelled). Who is checked in at each:

    week 1: A B C    week 2: A B D    week 3: A E    week 4: A B C F    week 5: A D F

E is also checked in at week 5, then the check-in is undone (it must not count). Week 4 has
five seats: A, B, C and G registered online (B and G pay 15.00 at the door), H registered and
cancelled, F walked in and paid at the door, I registered online when it was full. G never
came. B's 15.00 was refunded 5.00 by hand.
"""

from datetime import time, timedelta
from xml.etree import ElementTree as ET

import pytest

from facilitation.accounts.models import Role
from facilitation.attendance import report_queries, services
from facilitation.core.clock import utcnow
from facilitation.core.errors import Forbidden
from facilitation.extensions import db
from facilitation.gatherings import services as gatherings
from facilitation.registration import cancellation, ledger
from tests.attendance.factories import at_door, check_in, coming, door_volunteer, request_id
from tests.factories import details, make_gathering, make_user
from tests.registration.factories import make_option, register

CAME = {1: "ABC", 2: "ABD", 3: "AE", 4: "ABCF", 5: "ADF"}


@pytest.fixture
def weekly(app):
    """Build the series described above; return (organiser, series, people by letter, weeks)."""
    organiser = make_user(Role.ORGANISER)
    first = (utcnow() + timedelta(days=7)).date()
    series = gatherings.create_series(
        organiser,
        details(title="Weekly circle", capacity=20),
        gatherings.Recurrence("weekly", first, time(19, 0), 120, occurrence_count=6),
        publish_now=True,
        now=utcnow(),
    )
    weeks = {g.series_index + 1: g for g in series.occurrences}
    gatherings.cancel(organiser, weeks[6], "Holiday", now=utcnow())
    people = {name: make_user(name=f"{name} Person") for name in "ABCDEFGHI"}
    people["A"].name = "=A Person"  # a formula-looking name, for the CSV
    desk = door_volunteer()
    for week, names in CAME.items():
        if week == 4:
            continue
        option = make_option(weeks[week], "free")
        for name in names:
            check_in(desk, weeks[week], register(people[name], weeks[week], option))
    _week_four(organiser, desk, weeks[4], people)
    undone = check_in(desk, weeks[5], register(people["E"], weeks[5], make_option(weeks[5])))
    services.undo_check_in(desk, undone.check_in.id, at_door(weeks[5], 5))
    register(people["B"], weeks[5], make_option(weeks[5]))  # B does not come to week 5
    db.session.commit()
    return organiser, series, people, weeks


def _week_four(organiser, desk, gathering, people):
    gathering.capacity = 5
    free, door = make_option(gathering, "free"), make_option(gathering, "door", price_minor=1500)
    a, c = (register(people[n], gathering, free) for n in "AC")
    b, _ = (register(people[n], gathering, door) for n in "BG")
    h = register(people["H"], gathering, free)
    cancellation.cancel_by_participant(people["H"], h, now=at_door(gathering, 2000))
    data = services.WalkInInput("F Person", people["F"].email, door.id, 1500, request_id())
    services.walk_in(desk, gathering, data, at_door(gathering, 10))
    late = register(people["I"], gathering, free, now=at_door(gathering, 5))
    assert late.status == "waitlisted"
    for registration in (a, c):
        check_in(desk, gathering, registration)
    check_in(desk, gathering, b, door_payment_minor=1500)
    ledger.grant_refund(organiser, b, 500, now=at_door(gathering, -60))
    ledger.record_refund(b.id, "manual-1", 500, now=at_door(gathering, -60), provider="manual")


def after_all(weeks):
    return weeks[6].ends_at + timedelta(days=1)


def test_the_series_figures_match_the_hand_count(weekly):
    organiser, series, _, weeks = weekly
    report = report_queries.series_figures(organiser, series, after_all(weeks))
    figures = report.occurrences
    assert [f.occurrence.gathering_id for f in figures] == [weeks[w].id for w in range(1, 6)]
    assert [f.attended for f in figures] == [3, 3, 2, 4, 3]
    assert [f.newcomers for f in figures] == [3, 1, 1, 1, 0]
    assert [f.returning for f in figures] == [0, 2, 1, 3, 3]
    assert [f.came_back for f in figures] == [3, 3, 1, 2, None]
    assert report.retention == ((1, 1), (2, 3), (3, 1), (5, 1))
    assert report.people == 6


def test_only_occurrences_already_held_are_counted(weekly):
    organiser, series, _, weeks = weekly
    midway = weeks[3].starts_at + timedelta(minutes=1)
    report = report_queries.series_figures(organiser, series, midway)
    assert [f.attended for f in report.occurrences] == [3, 3, 2]


def test_week_four_figures_match_the_hand_count(weekly):
    organiser, _, _, weeks = weekly
    figures = report_queries.gathering_figures(organiser, weeks[4])
    report = figures.report
    assert (report.registered, report.checked_in, report.no_shows) == (5, 4, 1)
    assert (report.walk_ins, report.waitlist, report.cancelled) == (1, 1, 1)
    assert report.first_timers == 1  # F; A, B and C first came in week 1
    assert [(r.option, r.currency, r.charged_minor, r.refunded_minor, r.net_minor)
            for r in report.revenue] == [("Door", "EUR", 3000, 500, 2500)]  # fmt: skip
    assert services.headcount(weeks[4]) == services.Headcount(4, 5, 1)
    rows = figures.people_rows(weeks[4].id)
    by_name = {row[0]: row for row in rows[1:]}
    assert by_name["'=A Person"][4] and by_name["G Person"][4] == ""
    assert by_name["F Person"][5:] == ["yes", "yes"]
    assert ["No-shows", "1"] in figures.summary_rows()


def test_a_persons_history(weekly):
    _, _, people, weeks = weekly
    b = people["B"]
    later = (weeks[6].starts_at + timedelta(days=14)).replace(tzinfo=None)
    coming(make_gathering(capacity=3, starts_local=later), person=b)  # still to come
    history = report_queries.history_of(b, b, weeks[5].ends_at + timedelta(hours=1))
    assert (history.attended, history.no_shows, history.cancelled, history.upcoming) == (3, 1, 0, 1)


def test_the_series_chart_shows_each_occurrence(weekly):
    organiser, series, _, weeks = weekly
    report = report_queries.series_figures(organiser, series, after_all(weeks))
    root = ET.fromstring(report_queries.series_chart(report, "Weekly circle"))
    svg = "{http://www.w3.org/2000/svg}"
    tips = [t.text for t in root.iter(f"{svg}title")][1:]
    assert len(tips) == 5 and tips[3].endswith(": 4 attended, 1 newcomers")
    assert "15 check-ins by 6 people" in root.find(f"{svg}desc").text


def test_reports_are_for_organisers_and_facilitators_not_the_door(weekly):
    organiser, series, people, weeks = weekly
    door = door_volunteer()
    with pytest.raises(Forbidden):
        report_queries.gathering_figures(door, weeks[4])
    with pytest.raises(Forbidden):
        report_queries.series_figures(door, series, after_all(weeks))
    with pytest.raises(Forbidden):
        report_queries.history_of(people["C"], people["B"], after_all(weeks))
    assert report_queries.history_of(organiser, people["B"], after_all(weeks)).attended == 3


def test_a_lone_gathering_with_no_one_checked_in(app):
    organiser = make_user(Role.ORGANISER)
    gathering = make_gathering(organiser, capacity=4)
    coming(gathering)
    report = report_queries.gathering_figures(organiser, gathering).report
    assert (report.registered, report.checked_in, report.no_shows, report.first_timers) == (
        1, 0, 1, 0,
    )  # fmt: skip
