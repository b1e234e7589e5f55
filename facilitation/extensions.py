"""Flask extensions, created unbound and attached in :func:`facilitation.create_app`."""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from facilitation.core.db import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
socketio = SocketIO()
#: Where Socket.IO is served (Flask-SocketIO's default); no page of the app lives under it.
SOCKETIO_PATH = "/socket.io"
#: Rate limits; storage (memory, or Redis with REDIS_URL) is chosen in core.limits.install.
limiter = Limiter(key_func=get_remote_address, default_limits=[])
