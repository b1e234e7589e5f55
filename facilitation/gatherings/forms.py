"""Forms organisers fill in for gatherings and series."""

from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from facilitation.gatherings.models import KIND_LABELS, Frequency


@cache
def time_zone_choices() -> list[SelectChoice]:
    """Return the IANA time zones people pick from, by region."""
    zones = sorted(
        z
        for z in available_timezones()
        if "/" in z and not z.startswith(("Etc/", "SystemV/", "posix/", "right/", "US/"))
    )
    return [SelectChoice("UTC", "UTC"), *(SelectChoice(z, z.replace("_", " ")) for z in zones)]


KIND_CHOICES = [SelectChoice(k.value, label) for k, label in KIND_LABELS.items()]
FREQUENCY_CHOICES = [
    SelectChoice(Frequency.WEEKLY.value, "Every week"),
    SelectChoice(Frequency.FORTNIGHTLY.value, "Every two weeks"),
    SelectChoice(Frequency.MONTHLY_DATE.value, "Every month, same date (e.g. the 14th)"),
    SelectChoice(Frequency.MONTHLY_WEEKDAY.value, "Every month, same weekday (e.g. 2nd Tuesday)"),
]


class DetailsForm(FlaskForm):
    """Fields a gathering and a series share."""

    title = StringField("Title", validators=[DataRequired("Give it a title."), Length(max=200)])
    kind = SelectField("Kind", choices=KIND_CHOICES)
    description_md = TextAreaField(
        "Description",
        validators=[Optional(), Length(max=20_000)],
        description="Markdown: **bold**, *italic*, lists, links.",
    )
    timezone = SelectField("Time zone", choices=time_zone_choices, validate_choice=False)
    venue_name = StringField("Venue", validators=[Optional(), Length(max=200)])
    venue_address = TextAreaField("Address", validators=[Optional(), Length(max=1000)])
    online_url = StringField(
        "Online link",
        validators=[Optional(), Length(max=500)],
        description="For online gatherings.",
    )
    capacity = IntegerField(
        "Capacity",
        validators=[
            InputRequired("Say how many people can come."),
            NumberRange(min=0, message="Capacity cannot be below zero."),
        ],
    )
    accessibility_notes = TextAreaField(
        "Accessibility",
        validators=[Optional(), Length(max=4000)],
        description="Step-free access, toilets, seating, quiet room, sound level…",
    )
    facilitator_ids = SelectMultipleField(
        "Facilitators",
        coerce=int,
        validate_choice=False,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )


class GatheringForm(DetailsForm):
    """Create or edit one gathering."""

    starts_local = DateTimeLocalField(
        "Starts",
        validators=[InputRequired("Give the start date and time.")],
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
    )
    ends_local = DateTimeLocalField(
        "Ends",
        validators=[InputRequired("Give the end date and time.")],
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
    )


class SeriesForm(DetailsForm):
    """Create a series of gatherings."""

    frequency = RadioField("Meets", choices=FREQUENCY_CHOICES, default=Frequency.WEEKLY.value)
    first_date = DateField("First date", validators=[InputRequired("Give the first date.")])
    start_time = TimeField("Starts at", validators=[InputRequired("Give the start time.")])
    duration_minutes = IntegerField(
        "Length in minutes",
        validators=[
            InputRequired("Say how long each gathering lasts."),
            NumberRange(min=1, max=60 * 24 * 14, message="Between 1 minute and 14 days."),
        ],
        default=120,
    )
    end_mode = RadioField(
        "Ends",
        choices=[
            SelectChoice("count", "After a number of gatherings"),
            SelectChoice("until", "On a date"),
        ],
        default="count",
    )
    occurrence_count = IntegerField(
        "Number of gatherings", validators=[Optional(), NumberRange(min=1, max=200)], default=8
    )
    until_date = DateField("Last date", validators=[Optional()])
    publish_now = BooleanField("Publish them now", default=False)

    def validate(self, extra_validators=None) -> bool:  # type: ignore[no-untyped-def]
        """Require the end that was chosen."""
        ok = super().validate(extra_validators)
        if self.end_mode.data == "count" and self.occurrence_count.data is None:
            self.occurrence_count.errors = [*self.occurrence_count.errors, "How many gatherings?"]
            ok = False
        if self.end_mode.data == "until" and self.until_date.data is None:
            self.until_date.errors = [*self.until_date.errors, "Give the last date."]
            ok = False
        return ok


class SeriesDetailsForm(DetailsForm):
    """Edit what a series' future occurrences say."""


class CancelForm(FlaskForm):
    """Cancel with a note for the people who planned to come."""

    note = TextAreaField(
        "Message to participants (optional)", validators=[Optional(), Length(max=2000)]
    )
