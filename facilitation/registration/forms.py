"""The participant's registration form, built for one gathering's options, questions and roles.

The form only carries what was typed; the services check every rule, so the page, the API
and the CLI get the same answers. Amounts are typed in major units ("12.50").
"""

from __future__ import annotations

from collections.abc import Sequence

from flask_wtf import FlaskForm
from wtforms import (
    Field,
    RadioField,
    SelectChoice,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from facilitation.core.errors import DomainError
from facilitation.core.web import show_error
from facilitation.registration import pricing
from facilitation.registration.answers import MAX_LONG, MAX_SHORT, NO, YES, QuestionKind
from facilitation.registration.models import PairingRole, RegistrationQuestion, TicketOption
from facilitation.registration.services import RegistrationInput


class RegistrationForm(FlaskForm):
    """Choose a ticket option (and an amount on a sliding scale), a code, a role; answer."""

    option_id = RadioField("Ticket", validate_choice=False)
    code = StringField(
        "Discount or scholarship code",
        validators=[Optional(), Length(max=40, message="A code is at most 40 characters.")],
        description="Leave empty if you have none.",
    )
    role_id = RadioField("Your group", validate_choice=False)


def amount_field(option_id: int) -> str:
    """Return the name of the amount field of a sliding-scale option."""
    return f"amount_{option_id}"


def major(minor: int, currency: str) -> str:
    """Return an amount in major units without the currency, as typed: '12.50'."""
    return pricing.format_money(minor, currency).split(" ", 1)[1]


def _question_field(question: RegistrationQuestion) -> Field:
    label = question.label + (" (required)" if question.required else "")
    kind = QuestionKind(question.kind)
    choices = [SelectChoice(c, c) for c in question.choices or []]
    if kind is QuestionKind.LONG_TEXT:
        return TextAreaField(label, validators=[Length(max=MAX_LONG)])
    if kind is QuestionKind.SINGLE:
        return RadioField(label, choices=choices, validate_choice=False)
    if kind is QuestionKind.MULTIPLE:
        return SelectMultipleField(
            label,
            choices=choices,
            validate_choice=False,
            widget=ListWidget(prefix_label=False),
            option_widget=CheckboxInput(),
        )
    if kind is QuestionKind.YES_NO:
        return RadioField(
            label, choices=[SelectChoice(YES, "Yes"), SelectChoice(NO, "No")], validate_choice=False
        )
    return StringField(label, validators=[Length(max=MAX_SHORT)])


def registration_form(
    options: Sequence[TicketOption],
    questions: Sequence[RegistrationQuestion],
    roles: Sequence[PairingRole],
    currency: str,
) -> RegistrationForm:
    """Build the form for a gathering: one amount per sliding option, one field per question."""

    class GatheringForm(RegistrationForm):
        pass

    for option in options:
        if option.kind == pricing.OptionKind.SLIDING:
            field = StringField(
                f"Your amount ({currency})",
                default=major(option.suggested_minor, currency),
                render_kw={"inputmode": "decimal", "autocomplete": "off"},
            )
            setattr(GatheringForm, amount_field(option.id), field)
    for question in questions:
        setattr(GatheringForm, f"answer_{question.id}", _question_field(question))
    form = GatheringForm()
    form.option_id.choices = [SelectChoice(str(o.id), o.name) for o in options]
    if len(options) == 1 and form.option_id.data is None:
        form.option_id.data = str(options[0].id)
    form.role_id.choices = [SelectChoice(str(r.id), r.name) for r in roles]
    return form


def _int_or_none(value: object) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdigit() else None


def chosen_option(form: RegistrationForm) -> int | None:
    """Return the id of the option chosen on the form, if any."""
    return _int_or_none(form.option_id.data)


def registration_input(
    form: RegistrationForm, questions: Sequence[RegistrationQuestion], currency: str
) -> RegistrationInput:
    """Read the form into what the registration service takes; refuse an unreadable amount."""
    option_id = chosen_option(form)
    amount: int | None = None
    field = getattr(form, amount_field(option_id), None) if option_id is not None else None
    if field is not None and (field.data or "").strip():
        amount = pricing.parse_money(field.data, currency, amount_field(option_id or 0))
    answers: dict[int, object] = {}
    for question in questions:
        value = getattr(form, f"answer_{question.id}").data
        answers[question.id] = value if isinstance(value, list) else (value or "")
    return RegistrationInput(
        option_id=option_id,
        amount_minor=amount,
        code=form.code.data or "",
        answers=answers,
        role_id=_int_or_none(form.role_id.data),
    )


def show_registration_error(form: RegistrationForm, error: DomainError) -> None:
    """Put a refusal next to the field to fix (the chosen option's amount for amounts)."""
    if error.field == "amount_minor":
        option_id = chosen_option(form)
        has_amount = option_id is not None and hasattr(form, amount_field(option_id))
        field = amount_field(option_id or 0) if has_amount else "option_id"
        error = DomainError(error.code, error.message, field)
    show_error(form, error)
