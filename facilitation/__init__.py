"""Gatherwell: consent-based gatherings from registration to the live room."""

from __future__ import annotations

import contextlib
import logging
import os
from typing import Any

from flask import Flask, g, render_template, request
from flask.ctx import RequestContext
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from facilitation import config as config_module
from facilitation.core import crypto, page_cache
from facilitation.core.db import first_line, render_item
from facilitation.core.routing import URL_RULE_CLASS
from facilitation.extensions import SOCKETIO_PATH, csrf, db, login_manager, migrate, socketio

#: What a page, a JSON request or a live event answers while the database is not answering.
DATABASE_UNAVAILABLE = (
    "The database is not answering just now. Nothing was saved; try again in a minute."
)

#: The ``code`` of a JSON error answer, by HTTP status.
ERROR_CODES = {
    400: "bad_request",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
}


def _wants_json() -> bool:
    """Return True if the request is the API's, or asks for or sends JSON."""
    return (
        request.path.startswith("/api/")
        or request.is_json
        or request.accept_mimetypes.best == "application/json"
    )


class SessionInterface(SecureCookieSessionInterface):
    """Mark the session cookie Secure whenever the request came over TLS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        """Return True for HTTPS requests or when forced by configuration."""
        return bool(app.config["FORCE_SECURE_COOKIES"] or request.is_secure)


class _RequestContext(RequestContext):
    """A request context that routes pages but not Socket.IO events.

    Flask-SocketIO runs every socket event in a request context built on the socket's environ.
    Routing that environ finds nothing (no page lives under the Socket.IO path), and Werkzeug's
    matcher leaves a reference cycle behind each time (a recursive closure): garbage on every
    event that only the collector's rare full passes free (docs/benchmarks.md, session 6).
    """

    def match_request(self) -> None:
        """Route the request unless it is a Socket.IO event's."""
        path = str(self.request.environ.get("PATH_INFO", ""))
        if path == SOCKETIO_PATH or path.startswith(f"{SOCKETIO_PATH}/"):
            return
        super().match_request()


class Gatherwell(Flask):
    """The app's Flask: its request contexts leave Socket.IO events unrouted.

    Its URL rules share their compiled URL builders across apps (core/routing.py).
    """

    url_rule_class = URL_RULE_CLASS

    def request_context(self, environ: dict[str, Any]) -> RequestContext:
        """Return a request context for this WSGI environment."""
        return _RequestContext(self, environ)


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Create and configure the app."""
    app = Gatherwell(
        __name__,
        instance_path=os.environ.get("FACILITATION_INSTANCE_PATH") or None,
        instance_relative_config=True,
        template_folder="../templates",
        static_folder="../static",
    )
    settings: dict[str, Any] = dict(config_module.DEFAULTS)
    settings.update(config_module.from_environment(os.environ))
    settings.update(overrides or {})
    if not settings.get("SECRET_KEY"):
        settings["SECRET_KEY"] = config_module.instance_secret(app.instance_path, "secret_key")
    settings.setdefault(
        "SQLALCHEMY_DATABASE_URI",
        config_module.database_uri(settings.get("DATABASE_URL"), app.instance_path),
    )
    if not settings.get("ENCRYPTION_KEY"):
        settings["ENCRYPTION_KEY"] = config_module.instance_secret(
            app.instance_path, "encryption_key", generator=crypto.generate_key
        )
    if not settings.get("SITE_URL"):
        settings["SITE_URL"] = config_module.default_site_url(settings, os.environ)
    config_module.check(settings)
    crypto.configure(settings["ENCRYPTION_KEY"])
    app.config.update(settings)
    os.makedirs(app.instance_path, exist_ok=True)

    if app.config["PROXY_COUNT"]:
        n = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    app.session_interface = SessionInterface()

    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=os.path.join(os.path.dirname(__file__), "..", "migrations"),
        render_as_batch=True,
        compare_type=True,
        render_item=render_item,
    )
    login_manager.init_app(app)
    csrf.init_app(app)
    # Handlers must be registered before init_app, or a second app in one process gets none.
    from facilitation.exercises import sockets

    socketio.init_app(
        app,
        message_queue=app.config.get("REDIS_URL"),
        channel=app.config["SOCKETIO_CHANNEL"],
        async_mode=app.config.get("SOCKETIO_ASYNC_MODE", "threading"),
        cors_allowed_origins=None,
        max_http_buffer_size=sockets.MAX_FRAME_BYTES,
        # Socket events only read the session (who is logged in), and read it from the cookie
        # the socket connected with. Flask-SocketIO's own managed session would keep a decoded
        # copy per socket for no gain (about 0.9 KB per phone, docs/benchmarks.md).
        manage_session=False,
    )
    sockets.install(app)

    _register_models()
    _register_hardening(app)
    _register_blueprints(app)
    _register_errors(app)
    _register_favicon(app)
    _register_template_helpers(app)

    from facilitation import cli
    from facilitation.messaging.services import install_session_hooks

    cli.register(app)
    install_session_hooks()
    page_cache.install(app, PUBLIC_PAGE_TABLES)
    _start_sweeper_on_first_request(app)
    logging.getLogger("facilitation").setLevel(logging.INFO)
    return app


#: Tables whose changes show on public pages: a commit that changes one empties the page cache.
#: Registrations are left out on purpose (seat counts may lag by PAGE_CACHE_SECONDS), or
#: every registration in a rush would empty it.
PUBLIC_PAGE_TABLES = (
    "gatherings",
    "gathering_facilitators",
    "series",
    "registration_settings",
    "ticket_options",
    "registration_questions",
    "pairing_roles",
)


def _register_models() -> None:
    from facilitation.accounts import models as accounts_models  # noqa: F401
    from facilitation.api import models as api_models  # noqa: F401
    from facilitation.attendance import models as attendance_models  # noqa: F401
    from facilitation.consent import models as consent_models  # noqa: F401
    from facilitation.exercises import models as exercises_models  # noqa: F401
    from facilitation.gatherings import models as gatherings_models  # noqa: F401
    from facilitation.messaging import models as messaging_models  # noqa: F401
    from facilitation.registration import models as registration_models  # noqa: F401


def _register_blueprints(app: Flask) -> None:
    from facilitation.accounts import services as accounts_services
    from facilitation.accounts.models import User
    from facilitation.accounts.privacy_views import bp as privacy_bp
    from facilitation.accounts.views import bp as accounts_bp
    from facilitation.api.token_views import bp as api_tokens_bp
    from facilitation.api.views import bp as api_bp
    from facilitation.attendance.report_views import bp as attendance_reports_bp
    from facilitation.attendance.views import bp as attendance_bp
    from facilitation.consent.manage_views import bp as agreements_bp
    from facilitation.consent.safety_views import bp as safety_bp
    from facilitation.consent.views import bp as consent_bp
    from facilitation.exercises.live_views import bp as live_bp
    from facilitation.exercises.views import bp as exercises_bp
    from facilitation.gatherings.manage_views import bp as manage_bp
    from facilitation.gatherings.views import bp as gatherings_bp
    from facilitation.messaging.views import bp as messaging_bp
    from facilitation.registration.manage_views import bp as registration_manage_bp
    from facilitation.registration.payment_views import bp as payments_bp
    from facilitation.registration.views import bp as registration_bp

    app.register_blueprint(gatherings_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(manage_bp)
    app.register_blueprint(messaging_bp)
    app.register_blueprint(exercises_bp)
    app.register_blueprint(live_bp)
    app.register_blueprint(consent_bp)
    app.register_blueprint(agreements_bp)
    app.register_blueprint(safety_bp)
    app.register_blueprint(privacy_bp)
    app.register_blueprint(registration_bp)
    app.register_blueprint(payments_bp)
    app.register_blueprint(registration_manage_bp)
    app.register_blueprint(attendance_bp)
    app.register_blueprint(attendance_reports_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(api_tokens_bp)

    login_manager.login_view = "accounts.log_in"
    login_manager.login_message = "Please log in to see that page."
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(session_id: str) -> User | None:
        return accounts_services.load_session_user(session_id)


def _register_hardening(app: Flask) -> None:
    from facilitation.core import bad_input, limits, request_log, security

    request_log.install(app)  # first, so its clock starts before any other check runs
    security.install(app)
    bad_input.install(app)  # before the blueprints: their <int:...> rules use its converter
    limits.install(app)


def _register_favicon(app: Flask) -> None:
    @app.route("/favicon.ico")
    def favicon():  # type: ignore[no-untyped-def]
        return app.send_static_file("favicon.svg"), 200, {"Content-Type": "image/svg+xml"}


def _register_errors(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):  # type: ignore[no-untyped-def]
        message = "This form expired or was sent from elsewhere. Go back, reload and try again."
        return render_template("error.html", code=400, message=message), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):  # type: ignore[no-untyped-def]
        messages = {
            403: "You do not have access to this page.",
            404: "We could not find that page.",
            405: "That action is not available here.",
            413: "That upload is too large. The limit is {} MB.".format(
                app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
            ),
        }
        code = error.code or 500
        message = messages.get(code, error.description or "Something went wrong.")
        # Allow (405), Retry-After and the like; the body's own type is chosen here.
        headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
        if _wants_json():
            body = {"code": ERROR_CODES.get(code, "error"), "message": message, "field": None}
            return {"error": body}, code, headers
        return render_template("error.html", code=code, message=message), code, headers

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def database_unavailable(error: Exception):  # type: ignore[no-untyped-def]
        # The database is down or restarting (docs/faults.md): say so with a 503 the client
        # may retry, never a 500. pool_pre_ping reconnects by itself once it is back.
        with contextlib.suppress(Exception):  # the rollback itself may find no connection
            db.session.rollback()
        app.logger.warning("database not answering: %s", first_line(error))
        message = DATABASE_UNAVAILABLE
        headers = {"Retry-After": "60"}
        if _wants_json():
            body = {"code": "database_unavailable", "message": message, "field": None}
            return {"error": body}, 503, headers
        # The page's header asks who is logged in, which needs the database: show it anonymous.
        g._login_user = login_manager.anonymous_user()
        return render_template("error.html", code=503, message=message), 503, headers

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):  # type: ignore[no-untyped-def]
        db.session.rollback()
        app.logger.exception("unexpected error")
        message = "Something went wrong on our side. Nothing was saved; please try again."
        return render_template("error.html", code=500, message=message), 500


def _start_sweeper_on_first_request(app: Flask) -> None:
    # Started by a request, not here, so CLI commands and imports start no background task.
    from facilitation.registration.sweeper import ensure_sweeper

    app.before_request(lambda: ensure_sweeper(app))


def _register_template_helpers(app: Flask) -> None:
    from facilitation.core import display
    from facilitation.core.text import render_markdown
    from facilitation.core.web import PostForm
    from facilitation.gatherings import permissions
    from facilitation.gatherings.models import KIND_LABELS, GatheringKind

    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["kind_label"] = lambda k: KIND_LABELS.get(GatheringKind(k), k)
    # Built without the request's form data: a page only renders its token, and an error page
    # for an oversized body must not read that body again (it would raise 413 once more).
    app.jinja_env.globals["csrf_form"] = lambda: PostForm(formdata=None)
    app.jinja_env.globals["may"] = permissions.may
    display.register(app)
