"""Forms for exercises and for starting a run."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from facilitation.exercises.engine.pairing_types import OddPolicy

ACTIVE_CHOICES = [
    SelectChoice("everyone", "Everyone"),
    SelectChoice("a", "Partner A"),
    SelectChoice("b", "Partner B"),
]
CONTACT_CHOICES = [
    SelectChoice("0", "No touch"),
    SelectChoice("1", "Hands"),
    SelectChoice("2", "Hugs"),
]
EYE_CHOICES = [
    SelectChoice("0", "Not needed"),
    SelectChoice("1", "Soft eye contact"),
    SelectChoice("2", "Sustained eye contact"),
]
ODD_CHOICES = [
    SelectChoice(OddPolicy.REST.value, "One person rests, in fair rotation"),
    SelectChoice(OddPolicy.TRIO.value, "Make one trio"),
    SelectChoice(OddPolicy.FACILITATOR.value, "I step in as a partner"),
]


class PhaseForm(Form):
    """One phase row (rows left without a name are ignored)."""

    name = StringField("Name", validators=[Optional(), Length(max=80)])
    duration_s = IntegerField("Seconds", validators=[Optional(), NumberRange(min=5, max=7200)])
    instruction = TextAreaField("Instruction", validators=[Optional(), Length(max=1000)])
    active = SelectField("Who is active", choices=ACTIVE_CHOICES, default="everyone")


class ExerciseForm(FlaskForm):
    """Create or edit an exercise."""

    title = StringField("Title", validators=[InputRequired("Give it a title."), Length(max=120)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=4000)])
    grouping = RadioField(
        "Groups",
        choices=[SelectChoice("pairs", "Pairs"), SelectChoice("trios", "Trios")],
        default="pairs",
    )
    contact = SelectField("Touch it involves", choices=CONTACT_CHOICES, default="0", coerce=int)
    eye_contact = SelectField("Eye contact", choices=EYE_CHOICES, default="0", coerce=int)
    rounds = IntegerField(
        "Rounds",
        default=4,
        validators=[InputRequired("How many rounds?"), NumberRange(min=1, max=100)],
    )
    phases = FieldList(FormField(PhaseForm), min_entries=8, max_entries=12)


class StartRunForm(FlaskForm):
    """Prepare a run of an exercise in a gathering."""

    exercise_id = SelectField("Exercise", coerce=int, validate_choice=False)
    rounds = IntegerField(
        "Rounds (leave empty for the exercise's own)",
        validators=[Optional(), NumberRange(min=1, max=100)],
    )
    odd_policy = RadioField("With an odd number of people", choices=ODD_CHOICES, default="rest")
    pause_between_rounds = BooleanField("Wait for me between rounds")
    avoid_repeats_across_runs = BooleanField("Avoid partners from earlier runs of this gathering")
