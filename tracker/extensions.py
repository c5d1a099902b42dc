"""Bare extension objects, bound to the app in `create_app` (no circular imports)."""

from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from tracker.csrf import MaskedCSRFProtect
from tracker.database import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = MaskedCSRFProtect()
babel = Babel()
