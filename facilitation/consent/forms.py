"""Forms for agreements, signing, boundaries, do-not-pair and sensitive notes."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

KIND_CHOICES = [
    SelectChoice("code_of_conduct", "Code of conduct"),
    SelectChoice("consent_safety", "Consent and safety agreement"),
    SelectChoice("photo_recording", "Photo and recording consent"),
    SelectChoice("health_liability", "Health and liability waiver"),
    SelectChoice("other", "Other"),
]


class AgreementForm(FlaskForm):
    """Write or change an agreement."""

    title = StringField("Title", validators=[DataRequired("Give it a title."), Length(max=200)])
    kind = SelectField("Kind", choices=KIND_CHOICES)
    body_md = TextAreaField(
        "Text",
        validators=[DataRequired("Write the text."), Length(max=50_000)],
        description="Markdown. Once someone signs, this exact text is kept forever.",
    )
    change_kind = RadioField(
        "If people have signed it already",
        choices=[
            SelectChoice("minor", "Minor: wording only; earlier signatures still stand"),
            SelectChoice("material", "Material: everyone registered must sign again"),
        ],
        validators=[Optional()],
    )
    change_note = TextAreaField(
        "What changed (shown to those asked to sign again)",
        validators=[Optional(), Length(max=2000)],
    )


class RequiredAgreementsForm(FlaskForm):
    """Choose which agreements a gathering requires."""

    agreement_ids = SelectMultipleField(
        "Required agreements",
        coerce=int,
        validate_choice=False,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    apply_to_series = BooleanField("Also for every upcoming date of this series")
    remove_default = BooleanField(
        "Remove the community's default agreement from this gathering on purpose",
        description="Without this tick, unticking the default agreement is refused.",
    )


class CommunityForm(FlaskForm):
    """Choose the community's default agreement and its safeguarding contact."""

    default_agreement_id = SelectField(
        "Default agreement for every new gathering", coerce=int, validate_choice=False
    )
    safeguarding_contact_id = SelectField(
        "Safeguarding contact",
        coerce=int,
        validate_choice=False,
        description="Receives, alone, the reports about an organiser or a facilitator.",
    )


class SignForm(FlaskForm):
    """Sign one exact version."""

    version_id = HiddenField()
    shown_sha256 = HiddenField()
    viewed_token = HiddenField()
    gathering_id = HiddenField()
    typed_name = StringField(
        "Type your full name", validators=[DataRequired("Type your full name."), Length(max=200)]
    )
    signature = HiddenField("Signature")
    name_confirmed = BooleanField("This is my name")
    consent = BooleanField(
        "I agree to sign this electronically, and that it binds me like a signature on paper"
    )


class BoundariesForm(FlaskForm):
    """A boundaries profile."""

    touch = RadioField(
        "Touch I am open to",
        choices=[
            SelectChoice("0", "No touch"),
            SelectChoice("1", "Hands"),
            SelectChoice("2", "Hugs"),
        ],
        default="0",
        coerce=int,
    )
    eye_contact = RadioField(
        "Eye contact",
        choices=[
            SelectChoice("0", "I'd rather avoid it"),
            SelectChoice("1", "Soft eye contact is fine"),
            SelectChoice("2", "Sustained eye contact is fine"),
        ],
        default="1",
        coerce=int,
    )
    partner_preference = SelectField(
        "Partners",
        choices=[SelectChoice("any", "Anyone"), SelectChoice("same_gender", "Only my own gender")],
        default="any",
    )
    gender = SelectField(
        "Gender (only used for the preference above; optional)",
        choices=[
            SelectChoice("", "Prefer not to say"),
            SelectChoice("woman", "Woman"),
            SelectChoice("man", "Man"),
            SelectChoice("non_binary", "Non-binary"),
        ],
        default="",
    )
    pairing_role = StringField(
        "Pairing role (if the facilitators ask for one)", validators=[Optional(), Length(max=40)]
    )
    note = TextAreaField(
        "A note to the facilitators (private)",
        validators=[Optional(), Length(max=2000)],
        description=(
            "Only the facilitators and organisers of gatherings you take part in see it; "
            "each view is logged."
        ),
    )


class DoNotPairForm(FlaskForm):
    """Ask never to be paired with someone."""

    email = EmailField(
        "Their email address",
        validators=[DataRequired("Give their email address."), Length(max=320)],
        description="They are never told. Facilitators of your gatherings see the request.",
    )
    reason = TextAreaField("Why (optional, private)", validators=[Optional(), Length(max=1000)])


class SensitiveForm(FlaskForm):
    """Emergency contact and health or trauma notes."""

    emergency_contact = TextAreaField(
        "Emergency contact (name and phone)", validators=[Optional(), Length(max=1000)]
    )
    health_note = TextAreaField(
        "Health, access or trauma notes you choose to share",
        validators=[Optional(), Length(max=4000)],
    )
