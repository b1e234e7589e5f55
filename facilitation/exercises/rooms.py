"""Names of the Socket.IO namespace and rooms of the live layer: defined here only."""

NAMESPACE = "/live"


def run_room(run_id: int) -> str:
    """Return the room every client of a run is in."""
    return f"run:{run_id}"


def facilitators_room(run_id: int) -> str:
    """Return the room of a run's facilitator consoles."""
    return f"facilitators:{run_id}"


def console_room(run_id: int, user_id: int) -> str:
    """Return the room of one facilitator's console(s) of a run: private views go here only.

    Private views and support alerts are sent to the console rooms of those who may facilitate
    the gathering *at the time of sending*, never to every socket that once joined the run's
    facilitators room: a demoted facilitator's open console, on any process, stops getting them.
    """
    return f"console:{run_id}:{user_id}"


def projector_room(run_id: int) -> str:
    """Return the room of a run's projectors."""
    return f"projector:{run_id}"


def participant_room(run_id: int, user_id: int) -> str:
    """Return the room of one participant's phone(s) in a run."""
    return f"participant:{run_id}:{user_id}"


def user_room(user_id: int) -> str:
    """Return the room of every socket one person has open (any run, any role)."""
    return f"user:{user_id}"
