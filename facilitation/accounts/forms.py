"""Forms for signing up, logging in and resetting a password."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from facilitation.accounts.models import ROLE_LABELS, Role


class SignUpForm(FlaskForm):
    """Create an account."""

    name = StringField(
        "Full name", validators=[DataRequired("Tell us your name."), Length(max=120)]
    )
    display_name = StringField(
        "Name shown in the room (optional)",
        validators=[Optional(), Length(max=60)],
        description="Partners and the projector see this. Defaults to your first name.",
    )
    email = EmailField(
        "Email",
        validators=[
            DataRequired("Enter your email address."),
            Email("Enter an email address like name@example.org.", check_deliverability=False),
            Length(max=320),
        ],
    )
    password = PasswordField(
        "Password",
        validators=[DataRequired("Choose a password."), Length(max=200)],
        description="At least 10 characters.",
    )


class LoginForm(FlaskForm):
    """Log in with email and password."""

    email = EmailField("Email", validators=[DataRequired("Enter your email address.")])
    password = PasswordField("Password", validators=[DataRequired("Enter your password.")])


class ForgotPasswordForm(FlaskForm):
    """Ask for a password reset link."""

    email = EmailField(
        "Email",
        validators=[
            DataRequired("Enter your email address."),
            Email("Enter an email address like name@example.org.", check_deliverability=False),
        ],
    )


class ResetPasswordForm(FlaskForm):
    """Choose a new password."""

    password = PasswordField(
        "New password",
        validators=[DataRequired("Choose a password."), Length(max=200)],
        description="At least 10 characters.",
    )
    confirm = PasswordField(
        "Repeat the new password",
        validators=[DataRequired("Repeat the password."), EqualTo("password", "The two differ.")],
    )


class ProfileForm(FlaskForm):
    """Change one's names."""

    name = StringField(
        "Full name", validators=[DataRequired("Tell us your name."), Length(max=120)]
    )
    display_name = StringField("Name shown in the room", validators=[Optional(), Length(max=60)])


class RoleForm(FlaskForm):
    """Change someone's role."""

    role = SelectField("Role", choices=[SelectChoice(r.value, ROLE_LABELS[r]) for r in Role])
