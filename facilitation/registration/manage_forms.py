"""Forms organisers fill in for a gathering's registration, and what each form becomes.

Amounts are typed in major units ("12.50") and read with ``pricing.parse_money``; times are
typed as local wall-clock times in the gathering's time zone. The services check the rules;
their errors name a field of the service's input, which ``ERROR_FIELDS`` maps to the form's.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    Field,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from facilitation.core.errors import DomainError
from facilitation.core.web import PostForm, show_error
from facilitation.gatherings import schedule
from facilitation.registration import options, pricing, questions
from facilitation.registration.answers import QuestionKind
from facilitation.registration.models import (
    DiscountCode,
    PairingRole,
    Registration,
    RegistrationQuestion,
    RegistrationSettings,
    TicketOption,
)
from facilitation.registration.pricing import DiscountKind, OptionKind
from facilitation.registration.states import LIVE, RefundPolicy, Status

LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
#: Bound of counts of people typed into a form (a database integer holds far less than Python's).
MOST_PEOPLE = 100_000
TOO_MANY = "That is more people than any gathering holds; check it."


@dataclass(frozen=True)
class Context:
    """What reading a form needs to know of its gathering."""

    currency: str
    timezone: str


def major(minor: int, currency: str) -> str:
    """Return an amount as typed into a form: 2050 in EUR is '20.50'."""
    return pricing.format_money(minor, currency).removeprefix(f"{currency} ")


def read_money(field: Field, currency: str, *, required: bool = True) -> int:
    """Return the amount typed into ``field`` in minor units; empty is 0 unless required."""
    text = (field.data or "").strip()
    if not text:
        if required:
            raise DomainError("amount_required", "Give an amount.", field.name)
        return 0
    return pricing.parse_money(text, currency, field.name)


def to_utc(local: datetime | None, timezone: str) -> datetime | None:
    """Return the instant of a local wall-clock time in ``timezone`` (None stays None)."""
    return schedule.to_utc(local, timezone) if local is not None else None


def to_local(instant: datetime | None, timezone: str) -> datetime | None:
    """Return an instant as a naive local time for a datetime-local field."""
    return schedule.to_local(instant, timezone).replace(tzinfo=None) if instant else None


def place_error(form: FlaskForm, error: DomainError) -> None:
    """Show a service's error next to the form field it is about."""
    fields: dict[str | None, str] = getattr(form, "ERROR_FIELDS", {})
    name = fields.get(error.field, error.field)
    show_error(form, DomainError(error.code, error.message, name))


# --- settings ----------------------------------------------------------------------------

POLICY_CHOICES = [
    SelectChoice(RefundPolicy.FULL_BEFORE_DEADLINE.value, "A full refund up to the deadline below"),
    SelectChoice(RefundPolicy.NONE.value, "No refund"),
    SelectChoice(RefundPolicy.ORGANISER_DECIDES.value, "The organisers decide each time"),
]


class SettingsForm(FlaskForm):
    """How a gathering takes registrations."""

    ERROR_FIELDS: ClassVar[dict[str | None, str]] = {
        "registration_closes_at": "registration_closes_local"
    }

    requires_approval = BooleanField(
        "People apply and the facilitators approve or decline",
        description="Payment is taken only after approval.",
    )
    hold_minutes = IntegerField(
        "Hold a seat while someone pays (minutes)",
        validators=[InputRequired("Say how many minutes.")],
        description="The seat goes back to the pool if they have not paid by then.",
    )
    offer_hours = IntegerField(
        "Keep an offered seat open (hours)",
        validators=[InputRequired("Say how many hours.")],
        description="For a seat offered from the waitlist, or after an approval.",
    )
    refund_policy = RadioField("When a participant cancels", choices=POLICY_CHOICES)
    refund_deadline_hours = IntegerField(
        "Full refunds end this many hours before the start",
        validators=[InputRequired("Say how many hours (0 for up to the start).")],
    )
    currency = StringField(
        "Currency",
        validators=[DataRequired("Give the currency."), Length(max=10)],
        description="Three letters: EUR, GBP, USD… It cannot change once people have paid.",
    )
    registration_closes_local = DateTimeLocalField(
        "Registration closes",
        validators=[Optional()],
        format=LOCAL_FORMATS,
        description="Leave empty to take registrations until the start.",
    )

    def fill(self, settings: RegistrationSettings, ctx: Context) -> None:
        """Show the saved settings."""
        self.requires_approval.data = settings.requires_approval
        self.hold_minutes.data = settings.hold_minutes
        self.offer_hours.data = settings.offer_hours
        self.refund_policy.data = settings.refund_policy
        self.refund_deadline_hours.data = settings.refund_deadline_hours
        self.currency.data = settings.currency
        self.registration_closes_local.data = to_local(
            settings.registration_closes_at, ctx.timezone
        )

    def to_input(self, ctx: Context) -> options.SettingsInput:
        """Return the settings as the service takes them."""
        return options.SettingsInput(
            requires_approval=bool(self.requires_approval.data),
            hold_minutes=self.hold_minutes.data or 0,
            offer_hours=self.offer_hours.data or 0,
            refund_policy=self.refund_policy.data or "",
            refund_deadline_hours=self.refund_deadline_hours.data or 0,
            currency=self.currency.data or "",
            registration_closes_at=to_utc(self.registration_closes_local.data, ctx.timezone),
        )


# --- what a gathering offers -------------------------------------------------------------


class ItemForm(FlaskForm):
    """A form that edits one of a gathering's items (an option, a code, a question, a role)."""

    #: (legend, field names) in the order the page shows them.
    GROUPS: ClassVar[list[tuple[str, list[str]]]] = []
    ERROR_FIELDS: ClassVar[dict[str | None, str]] = {}

    def label_money(self, ctx: Context) -> None:
        """Put the currency into the labels of amount fields."""

    def fill(self, item: Any, ctx: Context) -> None:
        """Show a saved item."""
        raise NotImplementedError

    def to_input(self, ctx: Context) -> Any:
        """Return the item as the service takes it."""
        raise NotImplementedError


OPTION_KINDS = [
    SelectChoice(OptionKind.FREE.value, "Free"),
    SelectChoice(OptionKind.FIXED.value, "Fixed price, paid by card when registering"),
    SelectChoice(OptionKind.SLIDING.value, "Sliding scale, paid by card: each person chooses"),
    SelectChoice(OptionKind.DOOR.value, "Fixed price, paid at the door"),
]


class OptionForm(ItemForm):
    """A ticket option."""

    GROUPS = [
        ("", ["name", "kind"]),
        ("Fixed price or at the door", ["price"]),
        ("Sliding scale", ["minimum", "suggested", "maximum"]),
        ("", ["guidance", "is_active"]),
    ]
    ERROR_FIELDS = {
        "price_minor": "price",
        "min_minor": "minimum",
        "suggested_minor": "suggested",
        "max_minor": "maximum",
    }

    name = StringField(
        "Name",
        validators=[DataRequired("Give the option a name."), Length(max=100)],
        description="For example “Standard”, “Supporter” or “Concession”.",
    )
    kind = RadioField("How it is paid", choices=OPTION_KINDS, default=OptionKind.FREE.value)
    price = StringField("Price", validators=[Length(max=30)])
    minimum = StringField(
        "Minimum", validators=[Length(max=30)], description="Empty means 0: people may pay nothing."
    )
    suggested = StringField("Suggested", validators=[Length(max=30)])
    maximum = StringField("Maximum", validators=[Length(max=30)])
    guidance = TextAreaField(
        "How to choose",
        validators=[Optional(), Length(max=1000)],
        description="A sentence or two shown with the option, e.g. “Pay the suggested amount "
        "if you can; choose less if money is tight, more to help someone else come.”",
    )
    is_active = BooleanField("Offered to people registering", default=True)

    def label_money(self, ctx: Context) -> None:
        """Put the currency into the labels of amount fields."""
        for field in (self.price, self.minimum, self.suggested, self.maximum):
            field.label.text = f"{field.label.text} ({ctx.currency})"

    def fill(self, item: TicketOption, ctx: Context) -> None:
        """Show a saved option."""
        priced = item.kind in (OptionKind.FIXED, OptionKind.DOOR)
        sliding = item.kind == OptionKind.SLIDING
        self.name.data, self.kind.data = item.name, item.kind
        self.price.data = major(item.price_minor, ctx.currency) if priced else ""
        self.minimum.data = major(item.min_minor, ctx.currency) if sliding else ""
        self.suggested.data = major(item.suggested_minor, ctx.currency) if sliding else ""
        self.maximum.data = major(item.max_minor, ctx.currency) if sliding else ""
        self.guidance.data, self.is_active.data = item.guidance, item.is_active

    def to_input(self, ctx: Context) -> options.OptionInput:
        """Return the option with its amounts in minor units (only those its kind uses)."""
        kind = self.kind.data or ""
        priced = kind in (OptionKind.FIXED, OptionKind.DOOR)
        sliding = kind == OptionKind.SLIDING
        return options.OptionInput(
            name=self.name.data or "",
            kind=kind,
            price_minor=read_money(self.price, ctx.currency) if priced else 0,
            min_minor=read_money(self.minimum, ctx.currency, required=False) if sliding else 0,
            suggested_minor=read_money(self.suggested, ctx.currency) if sliding else 0,
            max_minor=read_money(self.maximum, ctx.currency) if sliding else 0,
            guidance=self.guidance.data or "",
            is_active=bool(self.is_active.data),
        )


class CodeForm(ItemForm):
    """A discount or scholarship code."""

    GROUPS = [
        ("", ["code", "kind", "value", "max_uses", "expires_local", "is_scholarship", "is_active"])
    ]
    ERROR_FIELDS = {"expires_at": "expires_local"}

    code = StringField(
        "Code",
        validators=[DataRequired("Give the code people will type."), Length(max=40)],
        description="3 to 40 letters, digits, dashes or underscores; capitals do not matter.",
    )
    kind = RadioField(
        "Discount",
        choices=[
            SelectChoice(DiscountKind.PERCENT.value, "A percentage off"),
            SelectChoice(DiscountKind.AMOUNT.value, "An amount off"),
        ],
        default=DiscountKind.PERCENT.value,
    )
    value = StringField(
        "How much off",
        validators=[DataRequired("Say how much it takes off."), Length(max=30)],
        description="A whole percentage (100 makes it free), or an amount such as 10 or 7.50.",
    )
    max_uses = IntegerField(
        "Most uses",
        validators=[Optional(), NumberRange(max=MOST_PEOPLE, message=TOO_MANY)],
        description="Empty for no limit. People applying, waiting or paying with it count too.",
    )
    expires_local = DateTimeLocalField(
        "Expires", validators=[Optional()], format=LOCAL_FORMATS, description="Empty: never."
    )
    is_scholarship = BooleanField("A scholarship (marked so in the list and the export)")
    is_active = BooleanField("Can be used", default=True)

    def fill(self, item: DiscountCode, ctx: Context) -> None:
        """Show a saved code."""
        self.code.data, self.kind.data = item.code, item.kind
        self.value.data = (
            major(item.value, ctx.currency) if item.kind == DiscountKind.AMOUNT else str(item.value)
        )
        self.max_uses.data = item.max_uses
        self.expires_local.data = to_local(item.expires_at, ctx.timezone)
        self.is_scholarship.data, self.is_active.data = item.is_scholarship, item.is_active

    def to_input(self, ctx: Context) -> options.CodeInput:
        """Return the code; a percentage as a whole number, an amount in minor units."""
        kind = self.kind.data or ""
        if kind == DiscountKind.AMOUNT:
            value = read_money(self.value, ctx.currency)
        else:
            text = (self.value.data or "").strip().removesuffix("%").strip()
            if not re.fullmatch(r"\d{1,3}", text):
                raise DomainError("bad_percent", "Give a whole percentage from 1 to 100.", "value")
            value = int(text)
        return options.CodeInput(
            code=self.code.data or "",
            kind=kind,
            value=value,
            max_uses=self.max_uses.data,
            expires_at=to_utc(self.expires_local.data, ctx.timezone),
            is_scholarship=bool(self.is_scholarship.data),
            is_active=bool(self.is_active.data),
        )


QUESTION_KINDS = [
    SelectChoice(QuestionKind.SHORT_TEXT.value, "A short answer"),
    SelectChoice(QuestionKind.LONG_TEXT.value, "A longer answer"),
    SelectChoice(QuestionKind.SINGLE.value, "One choice from a list"),
    SelectChoice(QuestionKind.MULTIPLE.value, "Any choices from a list"),
    SelectChoice(QuestionKind.YES_NO.value, "Yes or no"),
]
QUESTION_LABELS = {c.value: c.label for c in QUESTION_KINDS}


class QuestionForm(ItemForm):
    """A question on the registration form."""

    GROUPS = [("", ["label", "kind", "choices", "required"])]

    label = StringField(
        "Question", validators=[DataRequired("Write the question."), Length(max=500)]
    )
    kind = SelectField("Answer", choices=QUESTION_KINDS)
    choices = TextAreaField(
        "Choices",
        validators=[Optional(), Length(max=10_000)],
        description="One per line, for a question with choices.",
    )
    required = BooleanField("An answer is required")

    def fill(self, item: RegistrationQuestion, ctx: Context) -> None:
        """Show a saved question."""
        self.label.data, self.kind.data = item.label, item.kind
        self.choices.data = "\n".join(item.choices or [])
        self.required.data = item.required

    def to_input(self, ctx: Context) -> questions.QuestionInput:
        """Return the question with one choice per line."""
        return questions.QuestionInput(
            label=self.label.data or "",
            kind=self.kind.data or "",
            choices=(self.choices.data or "").splitlines(),
            required=bool(self.required.data),
        )


class RoleForm(ItemForm):
    """A pairing role people choose for themselves."""

    GROUPS = [("", ["name", "cap"])]

    name = StringField(
        "Role",
        validators=[DataRequired("Give the role a name."), Length(max=60)],
        description="For example “Partner A”. People choose one when they register.",
    )
    cap = IntegerField(
        "Most people in this role",
        validators=[Optional(), NumberRange(max=MOST_PEOPLE, message=TOO_MANY)],
        description="Empty for no cap. Keeps the room balanced: the rest join the waitlist.",
    )

    def fill(self, item: PairingRole, ctx: Context) -> None:
        """Show a saved role."""
        self.name.data, self.cap.data = item.name, item.cap

    def to_input(self, ctx: Context) -> questions.RoleInput:
        """Return the role."""
        return questions.RoleInput(name=self.name.data or "", cap=self.cap.data)


# --- what organisers do with one registration --------------------------------------------


class DecisionForm(FlaskForm):
    """Approve or decline an application."""

    message = TextAreaField(
        "Message to them (optional)",
        validators=[Optional(), Length(max=5000)],
        description="Sent in the email that tells them.",
    )


class CancelForm(FlaskForm):
    """Cancel someone's registration."""

    reason = TextAreaField(
        "Reason, sent to them (optional)", validators=[Optional(), Length(max=2000)]
    )
    refund = BooleanField("Refund everything they paid")


class AmountForm(FlaskForm):
    """An amount of money, typed in major units."""

    ERROR_FIELDS: ClassVar[dict[str | None, str]] = {"amount_minor": "amount", None: "amount"}

    amount = StringField("Amount", validators=[DataRequired("Give the amount."), Length(max=30)])

    def minor(self, currency: str) -> int:
        """Return the amount in minor units."""
        return read_money(self.amount, currency)


class PaymentForm(AmountForm):
    """Money received at the door, or paid back by hand."""

    note = StringField("Note (optional)", validators=[Optional(), Length(max=1000)])
    #: Recorded with a refund paid by hand, so a form sent twice records it once.
    nonce = HiddenField(
        default=lambda: secrets.token_hex(16),
        validators=[Regexp(r"^[0-9a-f]{32}$", message="Reload the page and try again.")],
    )


#: The forms of the actions on one registration, by the action's name in the URL.
ACTION_FORMS: dict[str, type[FlaskForm]] = {
    "approve": DecisionForm,
    "decline": DecisionForm,
    "offer": PostForm,
    "cancel": CancelForm,
    "refund": AmountForm,
    "door-payment": PaymentForm,
    "manual-refund": PaymentForm,
}


def actions_for(registration: Registration) -> list[str]:
    """Return the actions that make sense for a registration as it stands."""
    status = registration.status
    found = []
    if status == Status.APPLIED:
        found += ["approve", "decline"]
    if status == Status.WAITLISTED:
        found.append("offer")
    if status == Status.CONFIRMED:
        found.append("door-payment")
    if registration.amount_paid_minor > registration.refund_owed_minor:
        found.append("refund")
    if registration.amount_paid_minor > registration.amount_refunded_minor:
        found.append("manual-refund")
    if status in LIVE:
        found.append("cancel")
    return found


def action_form(action: str, registration: Registration, *, bound: bool = False) -> FlaskForm:
    """Return the form of one action on one registration, its amount filled in.

    Each form is prefixed with the action and the registration, so the fields of the many
    forms on one page have their own names and ids. ``bound`` reads the submitted data.
    """
    prefix = f"{action}-{registration.id}"
    form_class = ACTION_FORMS[action]
    if bound:
        return form_class(prefix=prefix)
    form = form_class(formdata=None, prefix=prefix)
    suggested = {
        "refund": registration.amount_paid_minor - registration.refund_owed_minor,
        "door-payment": registration.pay_at_door_due_minor,
        "manual-refund": registration.refund_outstanding_minor,
    }.get(action, 0)
    if isinstance(form, AmountForm) and suggested > 0:
        form.amount.data = major(suggested, registration.currency)
    return form
