"""Refuse bad input before it reaches the database: ids past its range, NUL bytes.

- ``<int:...>`` in a route matches only ids the database can hold (1 to 2**31 - 1, the
  range of PostgreSQL's ``integer``): a larger number is a plain 404, not an overflow error
  from the driver (SQLite refuses 2**63, PostgreSQL 2**31).
- A NUL character anywhere in the path, the query, a form field or a JSON body is refused
  with a 400 that says so: PostgreSQL cannot store NUL in text, and no field needs one.
  (The API's JSON bodies are left to its schemas, which answer 422 naming the field.)
- Oversized bodies (``MAX_CONTENT_LENGTH``) are refused by Werkzeug with a 413, which the
  app's error handler answers like any other error (page or JSON).
- Behind these, a number or text the database still cannot hold (a form's number past the
  integer range: SQLite raises ``OverflowError``, PostgreSQL a ``DataError``) is a 400 that
  says so, with the transaction rolled back, never a 500.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from flask import Flask, abort, current_app, request
from sqlalchemy.exc import DataError
from werkzeug.exceptions import BadRequest, NotFound
from werkzeug.routing import Map
from werkzeug.routing.converters import IntegerConverter, ValidationError

from facilitation.core.db import first_line
from facilitation.extensions import db

logger = logging.getLogger(__name__)

#: The largest id any table holds (PostgreSQL ``integer``; SQLite's is wider).
MAX_ID = 2**31 - 1
NUL = "\x00"
NUL_MESSAGE = (
    "The {where} contains a NUL character (\\0), which no field accepts. Remove it and send again."
)
OUT_OF_RANGE = (
    "A number or text in the request is too large. Check what you entered and send again."
)


def is_id(value: Any) -> bool:
    """Return True if ``value`` is an int (not a bool) the database can hold as an id."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


def parse_id(text: str) -> int:
    """Return ``text`` as an id, or raise ValueError (a ``type=`` for ``request.args.get``)."""
    value = int(text)
    if not 1 <= value <= MAX_ID:
        raise ValueError(f"not an id: {text!r}")
    return value


class IdConverter(IntegerConverter):
    """Werkzeug's ``int`` converter, matching only numbers up to :data:`MAX_ID`."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)

    def to_python(self, value: str) -> Any:
        """Return the id; a number past the range is a 404 at once.

        Not "no match": Werkzeug would go on to the other rules of that path, and one that
        allows another method answered 405 for a method this one serves (schemathesis found it).
        """
        try:
            return super().to_python(value)
        except ValidationError:
            raise NotFound() from None


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def nul_in_request() -> str | None:
    """Return where the current request carries a NUL character, or None."""
    if NUL in request.path:
        return "address"
    if any(_has_nul(k) or _has_nul(v) for k, v in request.args.items(multi=True)):
        return "address's query"
    if request.is_json:
        # The API's schemas refuse NUL themselves, with a 422 that names the field.
        if not request.path.startswith("/api/") and _has_nul(request.get_json(silent=True)):
            return "JSON body"
    elif request.method not in ("GET", "HEAD", "OPTIONS"):
        for name, value in request.form.items(multi=True):
            if _has_nul(name) or _has_nul(value):
                return f"form field “{name.replace(NUL, '')}”"
    return None


def refuse_nul() -> None:
    """Abort with a 400 naming where a NUL character is (a ``before_request`` hook)."""
    where = nul_in_request()
    if where is not None:
        abort(400, description=NUL_MESSAGE.format(where=where))


def out_of_range(error: Exception):  # type: ignore[no-untyped-def]
    """Answer a value the database cannot hold with a 400 (page or JSON), not a 500."""
    with contextlib.suppress(Exception):  # the failed statement left the transaction unusable
        db.session.rollback()
    logger.warning("refused a value the database cannot hold: %s", first_line(error))
    return current_app.handle_http_exception(BadRequest(OUT_OF_RANGE))


def install(app: Flask) -> None:
    """Bound the ``int`` route converter, refuse NUL characters and out-of-range values."""
    app.url_map.converters["int"] = IdConverter
    app.before_request(refuse_nul)
    app.register_error_handler(OverflowError, out_of_range)
    app.register_error_handler(DataError, out_of_range)
