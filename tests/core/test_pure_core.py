"""The pure core imports no framework: it takes values and returns values."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "facilitation"
PURE_MODULES = sorted(
    [
        *(ROOT / "exercises" / "engine").glob("*.py"),
        ROOT / "gatherings" / "schedule.py",
        *(
            ROOT / "registration" / f"{name}.py"
            for name in ("pricing", "states", "capacity", "answers", "export")
        ),
        *(
            ROOT / "attendance" / f"{name}.py"
            for name in ("rules", "ticket_codes", "reports", "charts")
        ),
    ]
)
FORBIDDEN = {"flask", "flask_sqlalchemy", "sqlalchemy", "flask_socketio", "socketio", "stripe",
             "werkzeug", "flask_login", "flask_wtf", "engineio", "redis"}  # fmt: skip


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("path", PURE_MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_pure_module_imports_no_framework(path):
    assert not (imported_roots(path) & FORBIDDEN)


def test_the_check_would_catch_a_framework_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from flask import current_app\nimport sqlalchemy.orm\n")
    assert imported_roots(bad) & FORBIDDEN == {"flask", "sqlalchemy"}


def test_pure_modules_exist():
    assert ROOT / "gatherings" / "schedule.py" in PURE_MODULES
    assert len(PURE_MODULES) >= 2
