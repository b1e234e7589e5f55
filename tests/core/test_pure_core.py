"""The pure core imports no framework, directly or through another module.

A module is pure when it says so (``__pure__ = True`` at its top level); there is no list to
keep. Its imports are followed through the package's own modules, so a pure module that
imports Flask by way of a helper fails as surely as one that imports it itself.
"""

from pathlib import Path

import pytest

from tests import import_graph

KNOWN = import_graph.modules()
PURE = sorted(name for name, path in KNOWN.items() if import_graph.is_marked_pure(path))
FORBIDDEN = {"flask", "flask_sqlalchemy", "sqlalchemy", "flask_socketio", "socketio", "stripe",
             "werkzeug", "flask_login", "flask_wtf", "flask_limiter", "engineio", "redis",
             "gevent", "psycopg"}  # fmt: skip


def framework_imports(name: str, known: dict[str, Path]) -> list[str]:
    """Return one line per framework reached from module ``name``, with the chain of imports."""
    chains = import_graph.import_chains(name, known)
    return [
        f"{name} reaches {root}: " + " -> ".join(f"{i.module} ({i.where()})" for i in chain)
        for root, chain in sorted(chains.items())
        if root in FORBIDDEN
    ]


@pytest.mark.parametrize("name", PURE)
def test_pure_module_reaches_no_framework(name):
    assert framework_imports(name, KNOWN) == []


def _package(tmp_path: Path, files: dict[str, str]) -> dict[str, Path]:
    for relative, text in files.items():
        path = tmp_path / "facilitation" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return import_graph.modules(tmp_path)


def test_a_framework_reached_through_another_module_is_caught(tmp_path):
    known = _package(
        tmp_path,
        {
            "__init__.py": "import flask\n",  # the app factory: not followed
            "core/__init__.py": "",
            "core/helpers.py": "def f():\n    from flask import current_app\n",
            "core/rules.py": "__pure__ = True\nfrom facilitation.core import helpers\n",
        },
    )
    assert import_graph.is_marked_pure(known["facilitation.core.rules"])
    [problem] = framework_imports("facilitation.core.rules", known)
    assert "reaches flask" in problem
    assert "facilitation.core.helpers" in problem and "helpers.py:2" in problem


def test_a_module_without_the_marker_is_not_pure(tmp_path):
    known = _package(tmp_path, {"a.py": "__pure__ = False\n", "b.py": "x = 1\n"})
    assert not any(import_graph.is_marked_pure(path) for path in known.values())


def test_the_pure_core_is_found_by_its_marker():
    assert "facilitation.gatherings.schedule" in PURE
    assert "facilitation.exercises.engine.pairing" in PURE
    assert "facilitation.registration.capacity" in PURE
