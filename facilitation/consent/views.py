"""Participant pages: agreements and signing, the signed record, boundaries, private notes."""

from __future__ import annotations

import base64

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from facilitation.consent import rules, safety, seals, signing
from facilitation.consent import services as consent
from facilitation.consent.forms import BoundariesForm, DoNotPairForm, SensitiveForm, SignForm
from facilitation.consent.models import (
    Agreement,
    AgreementVersion,
    DoNotPairRequest,
    SensitiveNote,
    Signature,
)
from facilitation.core.bad_input import parse_id
from facilitation.core.clock import utcnow
from facilitation.core.errors import DomainError
from facilitation.core.web import PostForm, show_error
from facilitation.exercises import broadcast
from facilitation.exercises.services import repair_where_present
from facilitation.extensions import db
from facilitation.gatherings.models import Gathering

bp = Blueprint("consent", __name__)

#: Salt of the token that pins when a participant was shown the text.
VIEWED_SALT = "agreement-viewed"


def _gathering(gathering_id: int) -> Gathering:
    gathering = db.session.get(Gathering, gathering_id)
    if gathering is None or (gathering.published_at is None and not current_user.is_organiser):
        abort(404)
    return gathering


@bp.route("/gatherings/<int:gathering_id>/agreements")
@login_required
def gathering_agreements(gathering_id: int):  # type: ignore[no-untyped-def]
    """List what a gathering asks participants to agree to, and what is signed."""
    gathering = _gathering(gathering_id)
    rows = []
    for agreement in consent.required_agreements(gathering.id):
        rows.append((agreement, consent.valid_signature(current_user.id, agreement)))
    return render_template(
        "consent/gathering_agreements.html", gathering=gathering, rows=rows, form=PostForm()
    )


@bp.route("/agreements/<int:agreement_id>/sign", methods=["GET", "POST"])
@login_required
def sign(agreement_id: int):  # type: ignore[no-untyped-def]
    """Read the full text, type one's name, draw a signature and agree to sign electronically."""
    agreement = db.session.get(Agreement, agreement_id)
    if agreement is None:
        abort(404)
    version = consent.latest_version(agreement)
    gathering_id = request.values.get("gathering", type=parse_id)
    if gathering_id is not None and db.session.get(Gathering, gathering_id) is None:
        gathering_id = None  # a stale or made-up link: sign without the gathering context
    form = SignForm()
    if form.validate_on_submit():
        try:
            version_id = int(form.version_id.data or 0)
            viewed_at = signing.viewed_at(form.viewed_token.data or "", version_id, VIEWED_SALT)
            signature = consent.sign(
                current_user,
                consent.SignInput(
                    version_id=version_id,
                    shown_sha256=form.shown_sha256.data or "",
                    typed_name=form.typed_name.data or "",
                    signature_png=signing.decode_signature(form.signature.data or ""),
                    consented_electronic=bool(form.consent.data),
                    viewed_at=viewed_at,
                    ip=request.remote_addr or "",
                    user_agent=request.headers.get("User-Agent", "")[:400],
                    gathering_id=gathering_id,
                    name_confirmed=bool(form.name_confirmed.data),
                ),
                now=utcnow(),
            )
        except DomainError as err:
            db.session.rollback()
            show_error(form, err)
            version = consent.latest_version(db.session.get(Agreement, agreement_id))
        else:
            db.session.commit()
            flash("Signed. Thank you.", "success")
            if gathering_id:
                return redirect(url_for("consent.gathering_agreements", gathering_id=gathering_id))
            return redirect(url_for("consent.show_signature", signature_id=signature.id))
    previous = db.session.scalars(
        sa.select(Signature)
        .where(Signature.user_id == current_user.id, Signature.agreement_version_id != version.id)
        .join(Signature.version)
        .where(AgreementVersion.agreement_id == agreement.id)
        .order_by(Signature.signed_at.desc())
        .limit(1)
    ).first()
    changes = rules.changed_lines(previous.version.body_md, version.body_md) if previous else []
    form.version_id.data = str(version.id)
    form.shown_sha256.data = version.sha256
    form.viewed_token.data = signing.viewed_token(version.id, utcnow(), VIEWED_SALT)
    return render_template(
        "consent/sign.html",
        agreement=agreement,
        version=version,
        form=form,
        gathering_id=gathering_id,
        previous=previous,
        changes=changes,
        name_mismatch=any("differs from your account name" in e for e in form.typed_name.errors),
    ), (400 if form.errors else 200)


def _may_see_signature(signature: Signature) -> bool:
    return current_user.is_organiser or signature.user_id == current_user.id


@bp.route("/signatures/<int:signature_id>")
@login_required
def show_signature(signature_id: int):  # type: ignore[no-untyped-def]
    """Show a signed record with its text hash and its seal checked, ready to print."""
    signature = db.session.get(Signature, signature_id)
    if signature is None or not _may_see_signature(signature):
        abort(404)
    image = base64.b64encode(signature.signature_png).decode()
    return render_template(
        "consent/signature.html",
        signature=signature,
        check=seals.check(signature),
        image=image,
    )


@bp.route("/account/agreements")
@login_required
def my_agreements():  # type: ignore[no-untyped-def]
    """List everything one has signed, with a way to withdraw consent."""
    signatures = db.session.scalars(
        sa.select(Signature)
        .where(Signature.user_id == current_user.id)
        .order_by(Signature.signed_at.desc())
    ).all()
    return render_template("consent/my_agreements.html", signatures=signatures, form=PostForm())


@bp.route("/account/agreements/<int:agreement_id>/withdraw", methods=["POST"])
@login_required
def withdraw(agreement_id: int):  # type: ignore[no-untyped-def]
    """Withdraw consent: recorded on its own; takes one out of live pairing at once."""
    agreement = db.session.get(Agreement, agreement_id)
    if agreement is None or not PostForm().validate_on_submit():
        abort(404 if agreement is None else 400)
    now = utcnow()
    consent.withdraw(current_user, agreement, now=now)
    outcomes = repair_where_present(current_user.id, now=now)
    db.session.commit()
    for outcome in outcomes:
        broadcast.after_change(outcome)
    flash(
        "Your consent is withdrawn. You will not be paired in exercises that need it; the "
        "facilitators have been told. You can sign again whenever you wish.",
        "success",
    )
    return redirect(url_for("consent.my_agreements"))


@bp.route("/account/boundaries", methods=["GET", "POST"])
@login_required
def boundaries():  # type: ignore[no-untyped-def]
    """Keep one's boundaries profile, in general or for one gathering."""
    gathering_id = request.values.get("gathering", type=parse_id)
    gathering = _gathering(gathering_id) if gathering_id else None
    profiles = safety.effective_boundaries([current_user.id], gathering_id or 0)
    current = profiles.get(current_user.id)
    form = BoundariesForm(obj=current)
    if request.method == "GET" and current is not None:
        form.gender.data = current.gender or ""
    if form.validate_on_submit():
        data = safety.BoundaryInput(
            touch=form.touch.data or 0,
            eye_contact=form.eye_contact.data if form.eye_contact.data is not None else 1,
            partner_preference=form.partner_preference.data or "any",
            gender=form.gender.data or None,
            pairing_role=form.pairing_role.data,
            note=form.note.data,
        )
        try:
            safety.save_boundaries(current_user, data, now=utcnow(), gathering_id=gathering_id)
        except DomainError as err:
            db.session.rollback()
            show_error(form, err)
        else:
            db.session.commit()
            flash("Your boundaries are saved.", "success")
            return redirect(request.full_path if gathering_id else url_for("consent.boundaries"))
    return render_template("consent/boundaries.html", form=form, gathering=gathering), (
        400 if form.errors else 200
    )


@bp.route("/account/do-not-pair", methods=["GET", "POST"])
@login_required
def do_not_pair():  # type: ignore[no-untyped-def]
    """Ask privately never to be paired with someone."""
    form = DoNotPairForm()
    if form.validate_on_submit():
        try:
            safety.add_do_not_pair(
                current_user, form.email.data or "", now=utcnow(), reason=form.reason.data
            )
        except DomainError as err:
            db.session.rollback()
            show_error(form, err)
        else:
            db.session.commit()
            flash("Saved. You will not be paired with this person; they are never told.", "success")
            return redirect(url_for("consent.do_not_pair"))
    requests = db.session.scalars(
        sa.select(DoNotPairRequest)
        .where(
            DoNotPairRequest.requester_id == current_user.id,
            DoNotPairRequest.withdrawn_at.is_(None),
        )
        .order_by(DoNotPairRequest.created_at.desc())
    ).all()
    return render_template(
        "consent/do_not_pair.html", form=form, requests=requests, post_form=PostForm()
    ), (400 if form.errors else 200)


@bp.route("/account/do-not-pair/<int:request_id>/withdraw", methods=["POST"])
@login_required
def withdraw_do_not_pair(request_id: int):  # type: ignore[no-untyped-def]
    """Withdraw one's own do-not-pair request."""
    if not PostForm().validate_on_submit():
        abort(400)
    try:
        safety.withdraw_do_not_pair(current_user, request_id, now=utcnow())
    except DomainError:
        abort(404)
    db.session.commit()
    flash("Request withdrawn.", "success")
    return redirect(url_for("consent.do_not_pair"))


@bp.route("/account/private-notes", methods=["GET", "POST"])
@login_required
def private_notes():  # type: ignore[no-untyped-def]
    """Keep an emergency contact and health notes; see who has read them."""
    note = db.session.scalar(
        sa.select(SensitiveNote).where(SensitiveNote.user_id == current_user.id)
    )
    form = SensitiveForm(obj=note)
    if form.validate_on_submit():
        safety.save_sensitive(
            current_user,
            form.emergency_contact.data or "",
            form.health_note.data or "",
            now=utcnow(),
        )
        db.session.commit()
        flash("Saved, encrypted.", "success")
        return redirect(url_for("consent.private_notes"))
    return render_template(
        "consent/private_notes.html", form=form, log=safety.access_log_for(current_user)
    ), (400 if form.errors else 200)
