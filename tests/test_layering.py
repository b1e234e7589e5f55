"""One door per rule: which package may import which, and who alone talks to Stripe.

``LAYERS`` is the one place the allowed direction is written: a domain package may import the
packages before it in the list, never one after it. ``core`` imports no domain package at all.
Upward imports that exist today are listed in ``KNOWN_UPWARD`` with the reason each is there;
shrink that list, never grow it — a new upward import fails with a message that names it.
"""

from pathlib import Path

from tests import import_graph

#: Lowest first. The app factory (facilitation/__init__.py) and cli.py sit above them all and
#: know every domain; extensions.py and config.py are wiring that any package may use (core
#: only extensions.py: config.py knows the gatherings' defaults).
LAYERS = (
    "core",
    "messaging",
    "accounts",
    "gatherings",
    "consent",
    "registration",
    "attendance",
    "exercises",
    "api",
)
WIRING = {"extensions", "config"}

#: (file, package it reaches up to): why it is allowed for now.
KNOWN_UPWARD = {
    ("facilitation/accounts/privacy.py", "consent"): "download-my-data gathers consent records",
    ("facilitation/messaging/views.py", "accounts"): "the outbox page checks the organiser role",
    ("facilitation/gatherings/manage_views.py", "registration"): "a gathering's page lists its "
    "registrations and its ticket options",
    ("facilitation/gatherings/services.py", "registration"): "cancelling or duplicating a "
    "gathering cancels or copies its registrations",
    ("facilitation/gatherings/views.py", "registration"): "the public page shows the seats left",
    ("facilitation/consent/manage_views.py", "exercises"): "the organiser's ban page ends "
    "live participation",
    ("facilitation/consent/safety.py", "attendance"): "safety reads who came to a gathering",
    ("facilitation/consent/safety.py", "exercises"): "a ban or do-not-pair reaches live runs",
    ("facilitation/consent/safety.py", "registration"): "a ban cancels registrations",
    ("facilitation/consent/views.py", "exercises"): "withdrawing consent leaves live runs",
    ("facilitation/registration/emails.py", "attendance"): "the confirmation email carries "
    "the ticket",
    ("facilitation/gatherings/permissions.py", "attendance"): "the one permissions module "
    "decides from every domain's facts: it reads check-ins (door narrows admission)",
    ("facilitation/gatherings/permissions.py", "consent"): "the permissions module reads bans",
    ("facilitation/gatherings/permissions.py", "exercises"): "the permissions module reads who "
    "a facilitator added to a run",
    ("facilitation/gatherings/permissions.py", "registration"): "the permissions module reads "
    "registrations and their states (admission, notes)",
    ("facilitation/accounts/privacy_views.py", "exercises"): "erasing an account closes its "
    "open sockets (exercises/removal.py)",
    ("facilitation/consent/safety_views.py", "exercises"): "a confirmed ban takes the person out "
    "of live runs (exercises/removal.py)",
    ("facilitation/accounts/views.py", "exercises"): "a role change closes the person's open "
    "consoles and sockets at once",
    ("facilitation/gatherings/manage_views.py", "exercises"): "taking a facilitator off a "
    "gathering closes their open consoles",
    ("facilitation/gatherings/services.py", "consent"): "a new gathering requires the "
    "community's default agreement",
    ("facilitation/consent/banning.py", "registration"): "a confirmed ban cancels the person's "
    "upcoming registrations with refunds",
    ("facilitation/consent/safety_views.py", "registration"): "the ban confirmation page shows "
    "each registration's refund",
}


def upward_imports(known: dict[str, Path]) -> list[str]:
    """Return one line per import from a domain package up to a later one in ``LAYERS``."""
    rank = {name: i for i, name in enumerate(LAYERS)}
    found = []
    for name, path in known.items():
        parts = name.split(".")
        if len(parts) < 3 or parts[1] not in rank:
            continue
        source = parts[1]
        for imp in import_graph.imports_of(path):
            target = imp.module.split(".")
            if target[0] != "facilitation" or len(target) < 2 or target[1] == source:
                continue
            package = target[1]
            if package == "extensions" or (package in WIRING and source != "core"):
                continue
            relative = str(path.relative_to(path.parents[len(parts) - 1]))
            allowed = rank.get(package, len(LAYERS)) < rank[source]
            if source == "core" or not allowed:
                if (relative, package) in KNOWN_UPWARD and source != "core":
                    continue
                found.append(
                    f"{imp.where()}: {source} imports {imp.module}, but {package} is "
                    f"{'above' if not allowed else 'a domain package, and core imports none'}"
                )
    return sorted(set(found))


def test_no_new_upward_import():
    problems = upward_imports(import_graph.modules())
    assert problems == [], (
        "Imports against the layering of tests/test_layering.py (move the code down, or "
        "call it through the higher package's service):\n" + "\n".join(problems)
    )


def test_an_upward_import_is_named(tmp_path):
    for relative, text in {
        "__init__.py": "",
        "consent/__init__.py": "",
        "consent/rules.py": "import facilitation.core.errors\n",
        "core/__init__.py": "",
        "core/errors.py": "def f():\n    from facilitation.consent import rules\n",
        "accounts/__init__.py": "",
        "accounts/services.py": "from facilitation.exercises.models import Run\n",
    }.items():
        path = tmp_path / "facilitation" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    problems = upward_imports(import_graph.modules(tmp_path))
    assert len(problems) == 2
    assert "services.py:1: accounts imports facilitation.exercises.models" in problems[0]
    assert "errors.py:2: core imports facilitation.consent" in problems[1]


def test_core_imports_no_domain_package():
    for name, path in import_graph.modules().items():
        if name.startswith("facilitation.core."):
            for imp in import_graph.imports_of(path):
                parts = imp.module.split(".")
                assert parts[0] != "facilitation" or parts[1] in {"core", "extensions"}, (
                    f"{imp.where()}: core imports {imp.module}"
                )


def test_stripe_is_reached_through_one_module():
    importers = {
        name
        for name, path in import_graph.modules().items()
        for imp in import_graph.imports_of(path)
        if imp.module.split(".")[0] == "stripe"
    }
    assert importers == {"facilitation.registration.payments"}
