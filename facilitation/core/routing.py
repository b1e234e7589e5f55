"""The app's URL rule class: Werkzeug's, with the URL builders it compiles shared by every app.

Werkzeug compiles two small Python functions for each rule (through ``ast`` and
``compile``): about two thirds of the time of ``create_app`` (measured in
docs/development.md). A builder depends only on the rule's text, parts and defaults, and
reads its converters from the rule it is bound to when called, so one compiled for an
earlier app serves the next. Production makes one app per process and gains little; the
test suite makes one per test. The app carries this class (``Gatherwell.url_rule_class``), so
the tests run the same routing code as production, on stock Flask and Werkzeug.

``_compile_builder`` is Werkzeug's own (private) method; if a release drops it, this class
is plain Werkzeug and only the speed is lost (tests/core/test_routing.py checks both).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from werkzeug.routing import Rule

Builder = Callable[..., tuple[str, str]]


class RuleWithSharedBuilders(Rule):
    """Werkzeug's rule, compiling each distinct URL builder once per process."""

    _builders: ClassVar[dict[tuple[object, ...], Builder]] = {}

    def _compile_builder(self, append_unknown: bool = True) -> Builder:
        """Return the builder compiled for an identical rule, or compile and keep it."""
        key = (self.rule, tuple(self._trace), repr(self.defaults), append_unknown)
        builder = self._builders.get(key)
        if builder is None:
            builder = self._builders[key] = super()._compile_builder(append_unknown)
        return builder


#: The class the app uses: plain Werkzeug if its builder hook is gone.
URL_RULE_CLASS: type[Rule] = RuleWithSharedBuilders if hasattr(Rule, "_compile_builder") else Rule
