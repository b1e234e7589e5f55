"""The app carries its URL rule class (shared builders); the suite patches nothing in Flask."""

from flask import Flask
from werkzeug.routing import Map, Rule
from werkzeug.routing.converters import AnyConverter, IntegerConverter

from facilitation.core import routing


def test_the_app_carries_the_rule_class_and_flask_is_stock(app):
    assert Flask.url_rule_class is Rule  # no global patch of Flask by the suite
    assert type(app).url_rule_class is routing.URL_RULE_CLASS
    assert all(isinstance(r, routing.RuleWithSharedBuilders) for r in app.url_map.iter_rules())


def test_a_second_app_reuses_the_first_apps_builders(app):
    from facilitation import create_app

    other = create_app(dict(app.config))
    for mine, theirs in zip(app.url_map.iter_rules(), other.url_map.iter_rules(), strict=True):
        assert mine.rule == theirs.rule
        assert mine._build.__func__ is theirs._build.__func__  # type: ignore[attr-defined]


def test_shared_builders_build_what_stock_werkzeug_builds(app):
    """Every rule of the app builds the same URL as a stock Werkzeug rule of the same text."""
    rules = list(app.url_map.iter_rules())
    stock = Map(
        [Rule(r.rule, endpoint=r.endpoint, methods=r.methods) for r in rules],
        converters=app.url_map.converters,
    )
    ours, theirs = app.url_map.bind("gatherwell.test"), stock.bind("gatherwell.test")
    for rule in rules:
        values: dict[str, object] = {"extra": "a&b"}
        for name, converter in rule._converters.items():
            if isinstance(converter, AnyConverter):
                values[name] = sorted(converter.items)[0]
            elif isinstance(converter, IntegerConverter):
                values[name] = 7
            else:
                values[name] = "a b/é"
        assert ours.build(rule.endpoint, values) == theirs.build(rule.endpoint, values), rule.rule


def test_the_same_rule_in_two_maps_builds_with_its_own_converters():
    """A shared builder reads the converters of the rule it is bound to, not the first one's."""

    first = Map([routing.RuleWithSharedBuilders("/p/<name>", endpoint="p")])
    second = Map([routing.RuleWithSharedBuilders("/p/<name>", endpoint="p")])
    second._rules[0]._converters["name"].to_url = lambda value: str(value).upper()  # type: ignore[method-assign]
    assert first.bind("h").build("p", {"name": "ab"}) == "/p/ab"
    assert second.bind("h").build("p", {"name": "ab"}) == "/p/AB"
