"""Export rows: every registration with its answers, safe to open in a spreadsheet."""

from datetime import UTC, datetime

from facilitation.registration.export import HEADER, ExportRecord, rows, safe_cell


def record(**values):
    base = {
        "name": "Ada Lovelace",
        "email": "ada@example.org",
        "status": "confirmed",
        "option": "Standard",
        "role": "",
        "currency": "EUR",
        "amount_minor": 2000,
        "paid_minor": 2000,
        "refunded_minor": 0,
        "door_due_minor": 0,
        "code": "",
        "created_at": datetime(2031, 1, 2, 3, 4, tzinfo=UTC),
        "confirmed_at": None,
        "answers": {7: "Curiosity"},
    }
    return ExportRecord(**{**base, **values})


def test_rows_have_a_header_and_a_column_per_question():
    table = rows([record()], [(7, "What brings you?"), (8, "Food")])
    assert table[0] == [*HEADER, "What brings you?", "Food"]
    assert table[1][:3] == ["Ada Lovelace", "ada@example.org", "confirmed"]
    assert table[1][5] == "EUR 20.00" and table[1][10] == "2031-01-02 03:04"
    assert table[1][-2:] == ["Curiosity", ""]


def test_cells_that_a_spreadsheet_would_run_as_formulas_are_defused():
    table = rows([record(name="=HYPERLINK(1)", answers={7: "+1"})], [(7, "@q")])
    assert table[0][-1] == "'@q"
    assert table[1][0] == "'=HYPERLINK(1)" and table[1][-1] == "'+1"
    assert safe_cell("plain") == "plain"
