"""Organiser and facilitator pages: agreements, what a gathering requires, participants' notes."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from wtforms import SelectChoice

from facilitation.accounts.models import Role, User
from facilitation.consent import community, safety
from facilitation.consent import services as consent
from facilitation.consent.forms import AgreementForm, CommunityForm, RequiredAgreementsForm
from facilitation.consent.models import Agreement
from facilitation.core.clock import utcnow
from facilitation.core.errors import DomainError
from facilitation.core.links import site_url_for
from facilitation.core.web import PostForm, role_required, show_error
from facilitation.exercises.models import Run, RunParticipant
from facilitation.extensions import db
from facilitation.gatherings import permissions
from facilitation.gatherings.models import Gathering
from facilitation.messaging import services as mail

bp = Blueprint("agreements", __name__, url_prefix="/manage")


@bp.route("/agreements")
@role_required(Role.ORGANISER)
def list_agreements():  # type: ignore[no-untyped-def]
    """List agreement templates with their versions."""
    agreements = db.session.scalars(sa.select(Agreement).order_by(Agreement.title)).all()
    return render_template("consent/agreements.html", agreements=agreements)


@bp.route("/agreements/new", methods=["GET", "POST"])
@role_required(Role.ORGANISER)
def new_agreement():  # type: ignore[no-untyped-def]
    """Write a new agreement."""
    form = AgreementForm()
    if form.validate_on_submit():
        try:
            agreement = consent.create_agreement(
                current_user,
                form.title.data or "",
                form.kind.data or "",
                form.body_md.data or "",
                now=utcnow(),
            )
        except DomainError as err:
            db.session.rollback()
            show_error(form, err)
        else:
            db.session.commit()
            flash("Agreement saved.", "success")
            return redirect(url_for("agreements.edit_agreement", agreement_id=agreement.id))
    return render_template("consent/agreement_form.html", form=form, agreement=None), (
        400 if form.errors else 200
    )


def _ask_to_sign_again(agreement: Agreement, user_ids: list[int], note: str) -> None:
    people = db.session.scalars(sa.select(User).where(User.id.in_(user_ids))).all()
    link = site_url_for("consent.sign", agreement_id=agreement.id)
    for person in people:
        mail.queue(
            person.email,
            f"Please sign the updated “{agreement.title}”",
            f"Hello {person.display_name},\n\n“{agreement.title}” has changed in substance, so we "
            f"ask everyone coming to an upcoming gathering to read it and sign again.\n\n"
            f"What changed: {note}\n\nRead and sign: {link}\n",
            kind="agreement_changed",
        )


@bp.route("/agreements/<int:agreement_id>", methods=["GET", "POST"])
@role_required(Role.ORGANISER)
def edit_agreement(agreement_id: int):  # type: ignore[no-untyped-def]
    """Change an agreement: in place while unsigned, else as a new minor or material version."""
    agreement = db.session.get(Agreement, agreement_id)
    if agreement is None:
        abort(404)
    latest = consent.latest_version(agreement)
    form = AgreementForm(obj=agreement)
    if request.method == "GET":
        form.body_md.data = latest.body_md
    if form.validate_on_submit():
        try:
            result = consent.edit_agreement(
                current_user,
                agreement,
                form.title.data or "",
                form.body_md.data or "",
                form.change_kind.data or "",
                form.change_note.data or "",
                now=utcnow(),
            )
            if result.resign_user_ids:
                _ask_to_sign_again(agreement, result.resign_user_ids, result.version.change_note)
        except DomainError as err:
            db.session.rollback()
            agreement = db.session.get(Agreement, agreement_id)
            show_error(form, err)
        else:
            db.session.commit()
            message = "Saved."
            if result.new_version:
                message = f"Saved as version {result.version.number}."
            if result.resign_user_ids:
                message += f" {len(result.resign_user_ids)} people were asked to sign again."
            flash(message, "success")
            return redirect(url_for("agreements.edit_agreement", agreement_id=agreement.id))
    return render_template(
        "consent/agreement_form.html", form=form, agreement=agreement, latest=latest
    ), (400 if form.errors else 200)


@bp.route("/gatherings/<int:gathering_id>/agreements", methods=["GET", "POST"])
@role_required(Role.ORGANISER)
def gathering_requirements(gathering_id: int):  # type: ignore[no-untyped-def]
    """Choose which agreements a gathering (or its whole series) requires."""
    gathering = db.session.get(Gathering, gathering_id)
    if gathering is None:
        abort(404)
    form = RequiredAgreementsForm()
    agreements = db.session.scalars(sa.select(Agreement).order_by(Agreement.title)).all()
    form.agreement_ids.choices = [SelectChoice(str(a.id), a.title) for a in agreements]
    if request.method == "GET":
        form.agreement_ids.data = [a.id for a in consent.required_agreements(gathering.id)]
    if form.validate_on_submit():
        targets = [gathering]
        if form.apply_to_series.data and gathering.series is not None:
            targets = [g for g in gathering.series.occurrences if g.ends_at > utcnow()]
        try:
            for target in targets:
                consent.set_required(
                    current_user,
                    target,
                    list(form.agreement_ids.data or []),
                    remove_default=bool(form.remove_default.data),
                    now=utcnow(),
                )
        except DomainError as err:
            db.session.rollback()
            show_error(form, err)
        else:
            db.session.commit()
            flash(f"Saved for {len(targets)} gathering(s).", "success")
            return redirect(url_for("agreements.gathering_requirements", gathering_id=gathering.id))
    return render_template(
        "consent/gathering_requirements.html",
        gathering=gathering,
        form=form,
        default_id=community.default_agreement_id(),
    ), (400 if form.errors else 200)


@bp.route("/community", methods=["GET", "POST"])
@role_required(Role.ORGANISER)
def community_settings():  # type: ignore[no-untyped-def]
    """Choose the community's default agreement and safeguarding contact."""
    form = CommunityForm()
    agreements = db.session.scalars(sa.select(Agreement).order_by(Agreement.title)).all()
    people = db.session.scalars(
        sa.select(User).where(User.is_active_account.is_(True)).order_by(User.name).limit(2000)
    ).all()
    form.default_agreement_id.choices = [SelectChoice(0, "None")] + [
        SelectChoice(a.id, a.title) for a in agreements
    ]
    form.safeguarding_contact_id.choices = [SelectChoice(0, "Nobody named yet")] + [
        SelectChoice(p.id, f"{p.name} ({p.email})") for p in people
    ]
    if request.method == "GET":
        current = community.read()
        form.default_agreement_id.data = current.default_agreement_id or 0
        form.safeguarding_contact_id.data = current.safeguarding_contact_id or 0
    if form.validate_on_submit():
        try:
            community.update(
                current_user,
                default_agreement_id=form.default_agreement_id.data or None,
                safeguarding_contact_id=form.safeguarding_contact_id.data or None,
                now=utcnow(),
            )
        except DomainError as err:
            db.session.rollback()
            show_error(form, err)
        else:
            db.session.commit()
            flash("Saved.", "success")
            return redirect(url_for("agreements.community_settings"))
    return render_template("consent/community.html", form=form), (400 if form.errors else 200)


def _facilitated(gathering_id: int) -> Gathering:
    gathering = db.session.get(Gathering, gathering_id)
    if gathering is None:
        abort(404)
    if not permissions.may_facilitate(current_user, gathering):
        abort(403)
    return gathering


@bp.route("/gatherings/<int:gathering_id>/participants")
@login_required
def participants(gathering_id: int):  # type: ignore[no-untyped-def]
    """Show a gathering's participants to its facilitators, with agreement status."""
    gathering = _facilitated(gathering_id)
    people = db.session.scalars(
        sa.select(User)
        .join(RunParticipant, RunParticipant.user_id == User.id)
        .join(Run, Run.id == RunParticipant.run_id)
        .where(Run.gathering_id == gathering.id)
        .distinct()
        .order_by(User.name)
    ).all()
    missing = consent.ineligibility([p.id for p in people], gathering.id)
    return render_template(
        "consent/participants.html",
        gathering=gathering,
        people=people,
        missing=missing,
        form=PostForm(),
    )


@bp.route("/gatherings/<int:gathering_id>/participants/<int:user_id>/notes", methods=["POST"])
@login_required
def participant_notes(gathering_id: int, user_id: int):  # type: ignore[no-untyped-def]
    """Open one participant's private notes (each field read is logged)."""
    gathering = _facilitated(gathering_id)
    if not PostForm().validate_on_submit():
        abort(400)
    try:
        notes = safety.read_sensitive(current_user, user_id, gathering, now=utcnow())
        boundary = safety.boundary_notes_for(current_user, gathering, [user_id], now=utcnow())
    except DomainError:
        abort(403)
    db.session.commit()
    person = db.session.get(User, user_id)
    response = render_template(
        "consent/participant_notes.html",
        gathering=gathering,
        person=person,
        notes=notes,
        boundary_note=boundary.get(user_id),
    )
    return response, 200, {"Cache-Control": "no-store"}


@bp.route("/gatherings/<int:gathering_id>/do-not-pair", methods=["POST"])
@login_required
def gathering_do_not_pair(gathering_id: int):  # type: ignore[no-untyped-def]
    """Show the gathering's do-not-pair requests to its facilitators (logged)."""
    gathering = _facilitated(gathering_id)
    if not PostForm().validate_on_submit():
        abort(400)
    listed = safety.do_not_pair_for(current_user, gathering, now=utcnow())
    db.session.commit()
    response = render_template(
        "consent/gathering_do_not_pair.html", gathering=gathering, listed=listed
    )
    return response, 200, {"Cache-Control": "no-store"}
