"""Report arithmetic, pure: a series of five whose true figures are worked out by hand."""

from datetime import UTC, datetime, timedelta

import pytest

from facilitation.attendance import reports
from facilitation.attendance.reports import (
    Attendance,
    HistoryRow,
    MoneyRow,
    Occurrence,
    PersonRow,
)

START = datetime(2026, 12, 3, 19, 0, tzinfo=UTC)
#: Who came to each of five weekly occurrences (gathering ids 1 to 5).
CAME = {1: "ABC", 2: "ABD", 3: "AE", 4: "ABCF", 5: "ADF"}
PEOPLE = {name: n for n, name in enumerate("ABCDEF", start=1)}


def occurrences() -> list[Occurrence]:
    return [Occurrence(g, START + timedelta(weeks=g - 1), f"week {g}") for g in CAME]


def attendance() -> list[Attendance]:
    return [
        Attendance(PEOPLE[name], g, START + timedelta(weeks=g - 1))
        for g, names in CAME.items()
        for name in names
    ]


def test_a_series_of_five_against_figures_worked_out_by_hand():
    # By hand:           week 1    week 2    week 3   week 4      week 5
    # came               A B C     A B D     A E      A B C F     A D F
    # first time here    A B C     D         E        F           -
    # had come before    -         A B       A        A B C       A D F
    # come again later   A B C     A B D     A        A F         (last)
    report = reports.series_report(list(reversed(occurrences())), attendance())
    figures = report.occurrences
    assert [f.occurrence.gathering_id for f in figures] == [1, 2, 3, 4, 5]
    assert [f.attended for f in figures] == [3, 3, 2, 4, 3]
    assert [f.newcomers for f in figures] == [3, 1, 1, 1, 0]
    assert [f.returning for f in figures] == [0, 2, 1, 3, 3]
    assert [f.returning_rate for f in figures] == pytest.approx([0, 2 / 3, 1 / 2, 3 / 4, 1])
    assert [f.came_back for f in figures] == [3, 3, 1, 2, None]
    assert [f.came_back_rate for f in figures][:4] == pytest.approx([1, 1, 1 / 2, 1 / 2])
    assert figures[4].came_back_rate is None
    # A came 5 times, B 3 (weeks 1, 2, 4), C, D and F twice each, E once.
    assert report.retention == ((1, 1), (2, 3), (3, 1), (5, 1))
    assert report.people == 6


def test_an_occurrence_nobody_came_to_has_no_rates():
    report = reports.series_report(occurrences()[:1], [])
    [only] = report.occurrences
    assert (only.attended, only.returning_rate, only.came_back) == (0, None, None)
    assert report.retention == () and report.people == 0


def test_series_csv_has_a_row_per_occurrence_then_retention():
    rows = reports.series_rows(reports.series_report(occurrences(), attendance()))
    assert rows[0][:4] == ["Date (UTC)", "Occurrence", "Attended", "Newcomers"]
    assert rows[2] == ["2026-12-10 19:00", "week 2", "3", "1", "2", "67%", "3", "100%"]
    assert rows[5][-2:] == ["", ""]  # the last week: nobody can have come back yet
    assert rows[6:] == [[], ["Occurrences attended", "People"], ["1", "1"], ["2", "3"], ["3", "1"],
                        ["5", "1"]]  # fmt: skip


def person(uid, status="confirmed", checked=False, walk_in=False, name=None):
    at = START + timedelta(minutes=uid) if checked else None
    return PersonRow(uid, name or f"P{uid}", f"p{uid}@example.org", status, "Free", at, walk_in)


def test_one_gathering_counts_by_hand():
    people = [
        person(1, checked=True),
        person(2, checked=True),
        person(3),  # a no-show
        person(4, checked=True, walk_in=True),
        person(5, "waitlisted"),
        person(6, "cancelled"),
        person(7, "cancelled"),
        person(7, "confirmed", checked=True),  # cancelled, registered again, came
    ]
    money = [
        MoneyRow("Door", "charge", 1500, "EUR"),
        MoneyRow("Door", "charge", 1500, "EUR"),
        MoneyRow("Door", "refund", 500, "EUR"),
        MoneyRow("Supporter", "charge", 3000, "GBP"),
        MoneyRow("Supporter", "charge", 2000, "EUR"),
    ]
    first = {1: 9, 2: 4, 4: 4, 7: 4}  # person 1 first came elsewhere; 2, 4 and 7 here
    report = reports.gathering_report(4, people, money, first)
    assert (report.registered, report.checked_in, report.no_shows) == (5, 4, 1)
    assert (report.walk_ins, report.waitlist, report.cancelled, report.first_timers) == (1, 1, 1, 3)
    assert [(r.option, r.currency, r.net_minor) for r in report.revenue] == [
        ("Door", "EUR", 2500),
        ("Supporter", "EUR", 2000),
        ("Supporter", "GBP", 3000),
    ]


def test_gathering_csv_rows_are_safe_from_formulas():
    people = [person(1, checked=True, name="=HYPERLINK(evil)"), person(2, name="+44 prank")]
    rows = reports.attendee_rows(people, {1: 4}, 4)
    assert rows[1][0] == "'=HYPERLINK(evil)" and rows[2][0] == "'+44 prank"
    assert rows[1][-1] == "yes" and rows[2][4] == ""
    report = reports.gathering_report(4, people, [MoneyRow("=1+1", "charge", 100, "EUR")], {})
    summary = reports.gathering_summary_rows(report)
    assert summary[0] == ["Measure", "Value"] and ["Registered", "2"] in summary
    assert summary[-1] == ["Revenue: =1+1 (EUR)", "EUR 1.00"]


def test_first_gatherings_take_the_earliest_start():
    rows = [Attendance(1, 7, START + timedelta(days=7)), Attendance(1, 3, START),
            Attendance(2, 5, START), Attendance(2, 4, START)]  # fmt: skip
    assert reports.first_gatherings(rows) == {1: 3, 2: 4}


def test_a_persons_history_by_hand():
    now = START + timedelta(weeks=3)

    def row(week, status="confirmed", came=False):
        starts = START + timedelta(weeks=week)
        return HistoryRow(week, f"week {week}", starts, starts + timedelta(hours=2), status,
                          starts if came else None, False)  # fmt: skip

    rows = [row(0, came=True), row(1), row(2, "cancelled"), row(3, came=True), row(4)]
    history = reports.participant_history([*rows, row(5, "waitlisted")], now)
    # Came to weeks 0 and 3 (3 is under way), missed week 1, cancelled week 2, week 4 to come.
    assert (history.attended, history.no_shows, history.cancelled, history.upcoming) == (2, 1, 1, 1)
    assert [r.gathering_id for r in history.rows] == [5, 4, 3, 2, 1, 0]
    csv = reports.history_rows(history)
    assert csv[0] == ["Date (UTC)", "Gathering", "Status", "Checked in (UTC)", "Walk-in"]
    assert csv[3][1:3] == ["week 3", "confirmed"] and csv[3][3]


@pytest.mark.parametrize(
    ("taken", "capacity", "fill"), [(0, 10, 0), (5, 10, 0.5), (12, 10, 1), (0, 0, 1)]
)
def test_fill_ratio(taken, capacity, fill):
    assert reports.fill_ratio(taken, capacity) == fill
