"""What organisers set up: settings, ticket options, codes, questions and roles."""

import pytest

from facilitation.accounts.models import Role
from facilitation.core.clock import utcnow
from facilitation.core.errors import DomainError, Forbidden, NotFound
from facilitation.registration import options, questions
from facilitation.registration.models import RegistrationSettings
from tests.factories import make_gathering, make_user
from tests.registration.factories import (
    make_code,
    make_option,
    make_question,
    make_role,
    make_settings,
    organiser_of,
    register,
)


def refused(error_code, call, *args, **kwargs):
    with pytest.raises(DomainError) as caught:
        call(*args, now=utcnow(), **kwargs)
    assert caught.value.code == error_code
    return caught.value


def test_settings_default_until_changed_and_are_saved_once(gathering):
    defaults = options.read_settings(gathering)
    assert (defaults.id, defaults.hold_minutes, defaults.offer_hours) == (None, 15, 24)
    assert (defaults.refund_policy, defaults.currency) == ("full_before_deadline", "EUR")
    saved = options.settings_for(gathering)
    assert saved.id is not None and options.settings_for(gathering).id == saved.id
    assert isinstance(saved, RegistrationSettings)


def test_settings_are_checked(gathering):
    organiser = organiser_of(gathering)
    for values, code in [
        ({"hold_minutes": 0}, "bad_hold"),
        ({"offer_hours": 0}, "bad_offer_hours"),
        ({"refund_policy": "sometimes"}, "bad_policy"),
        ({"currency": "euro"}, "bad_currency"),
    ]:
        refused(
            code, options.update_settings, organiser, gathering, options.SettingsInput(**values)
        )


def test_the_currency_is_fixed_once_people_owe_money(gathering):
    register(make_user(), gathering, make_option(gathering, "fixed"))
    refused(
        "currency_locked",
        options.update_settings,
        organiser_of(gathering),
        gathering,
        options.SettingsInput(currency="GBP"),
    )


def test_only_organisers_and_the_gatherings_facilitators_set_up(organiser):
    own = make_user(Role.FACILITATOR)
    gathering = make_gathering(organiser, facilitator_ids=[own.id])
    data = options.OptionInput("Standard", "free")
    options.add_option(own, gathering, data, now=utcnow())
    for outsider in (make_user(Role.FACILITATOR), make_user()):
        with pytest.raises(Forbidden):
            options.add_option(outsider, gathering, data, now=utcnow())


def test_options_keep_only_the_prices_of_their_kind_and_their_order(gathering):
    organiser = organiser_of(gathering)
    data = options.OptionInput(
        "  Pay  what you can ",
        "sliding",
        price_minor=999,
        min_minor=0,
        suggested_minor=1500,
        max_minor=4000,
        guidance="Pay what feels right.",
    )
    first = options.add_option(organiser, gathering, data, now=utcnow())
    second = make_option(gathering, "door")
    assert (first.name, first.price_minor, first.max_minor) == ("Pay what you can", 0, 4000)
    assert [o.id for o in options.options_for(gathering)] == [first.id, second.id]
    refused(
        "bad_sliding_scale",
        options.update_option,
        organiser,
        gathering,
        first.id,
        options.OptionInput("Bad", "sliding", min_minor=50, suggested_minor=10, max_minor=90),
    )
    refused(
        "name_required", options.add_option, organiser, gathering, options.OptionInput(" ", "free")
    )


def test_an_option_in_use_is_switched_off_instead_of_removed(gathering):
    organiser = organiser_of(gathering)
    used, unused = make_option(gathering), make_option(gathering, "fixed")
    register(make_user(), gathering, used)
    options.remove_option(organiser, gathering, used.id, now=utcnow())
    options.remove_option(organiser, gathering, unused.id, now=utcnow())
    assert options.options_for(gathering) == []
    assert options.options_for(gathering, include_inactive=True) == [used]


def test_an_option_of_another_gathering_is_not_found(gathering, organiser):
    other = make_option(make_gathering(organiser))
    with pytest.raises(NotFound):
        options.remove_option(organiser, gathering, other.id, now=utcnow())


def test_codes_are_upper_case_and_unique_per_gathering(gathering, organiser):
    code = make_code(gathering, "spring", "amount", 500)
    assert code.code == "SPRING"
    refused(
        "code_taken",
        options.add_code,
        organiser,
        gathering,
        options.CodeInput("Spring", "percent", 10),
    )
    make_code(make_gathering(organiser), "SPRING")  # another gathering may reuse it
    refused(
        "bad_percent",
        options.add_code,
        organiser,
        gathering,
        options.CodeInput("BIG", "percent", 150),
    )
    assert options.find_code(gathering, " spring ").id == code.id


def test_code_uses_count_everyone_holding_a_place_or_waiting(gathering):
    code = make_code(gathering, "TEN", "percent", 10)
    option = make_option(gathering)
    for _ in range(3):  # two seats, then the waitlist
        register(make_user(), gathering, option, code="TEN")
    assert options.code_uses(code, utcnow()) == 3


def test_a_question_once_answered_keeps_its_kind_and_choices(gathering):
    organiser = organiser_of(gathering)
    question = make_question(gathering, "Food?", "single", ["Vegan", "Anything"])
    register(make_user(), gathering, make_option(gathering), answers={question.id: "Vegan"})
    refused(
        "kind_locked",
        questions.update_question,
        organiser,
        gathering,
        question.id,
        questions.QuestionInput("Food?", "short_text"),
    )
    refused(
        "choice_in_use",
        questions.update_question,
        organiser,
        gathering,
        question.id,
        questions.QuestionInput("Food?", "single", ["Anything", "Fish"]),
    )
    questions.update_question(
        organiser,
        gathering,
        question.id,
        questions.QuestionInput("Food, please?", "single", ["Vegan", "Anything", "Fish"], True),
        now=utcnow(),
    )
    assert question.choices == ["Vegan", "Anything", "Fish"] and question.required
    questions.remove_question(organiser, gathering, question.id, now=utcnow())
    assert questions.questions_for(gathering) == [] and question.is_active is False


def test_roles_are_unique_and_a_chosen_role_stays(gathering):
    organiser = organiser_of(gathering)
    a = make_role(gathering, "Leader", cap=1)
    refused("role_taken", questions.add_role, organiser, gathering, questions.RoleInput("Leader"))
    follower = questions.RoleInput("Follower", -1)
    refused("bad_cap", questions.add_role, organiser, gathering, follower)
    register(make_user(), gathering, make_option(gathering), role_id=a.id)
    refused("role_in_use", questions.remove_role, organiser, gathering, a.id)
    b = make_role(gathering, "Follower")
    questions.remove_role(organiser, gathering, b.id, now=utcnow())
    assert questions.roles_for(gathering) == [a]


def test_raising_a_role_cap_offers_seats_to_that_role(gathering):
    role = make_role(gathering, "Leader", cap=1)
    option = make_option(gathering)
    register(make_user(), gathering, option, role_id=role.id)
    waiting = register(make_user(), gathering, option, role_id=role.id)
    assert waiting.status == "waitlisted"
    make_settings(gathering)  # settings saved: the offer uses them
    questions.update_role(
        organiser_of(gathering), gathering, role.id, questions.RoleInput("Leader", 2), now=utcnow()
    )
    assert waiting.status == "offered"
