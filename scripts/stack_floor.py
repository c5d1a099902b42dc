"""The stack's floor: the least a signed-in page costs on Flask, Flask-Login, SQLAlchemy and Jinja.

A bare app on tracker's stack with nothing of tracker in it, for the load benchmark to
serve with the same server settings right after tracker:

- `/healthz`: a constant, as tracker's;
- `/me`: the signed-in user as JSON (the session cookie verified, the user's row loaded by
  Flask-Login's user loader through the ORM);
- `/item/<token>`: the same, then one row found by a unique token and a short page
  rendered by Jinja from a layout (a title, two assets, six links, five facts).

No page of tracker can do less than `/item/<token>`, so its share of `/healthz` is the
most any page can reach on this stack and machine.

    .venv/bin/python scripts/stack_floor.py --database-url URL --items N   # fill its tables
    STACK_FLOOR_DATABASE_URL=URL STACK_FLOOR_SECRET_KEY=KEY \
        gunicorn --pythonpath scripts 'stack_floor:create_app()'
"""

import argparse
import os
import sys

import sqlalchemy as sa
from flask import Flask, jsonify, render_template
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user
from flask_sqlalchemy import SQLAlchemy
from jinja2 import DictLoader
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

URL_VARIABLE = "STACK_FLOOR_DATABASE_URL"
KEY_VARIABLE = "STACK_FLOOR_SECRET_KEY"  # the same in every worker, or sessions break


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class FloorUser(db.Model, UserMixin):
    __tablename__ = "floor_users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(200))
    role: Mapped[str] = mapped_column(sa.String(20))


class FloorItem(db.Model):
    __tablename__ = "floor_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(sa.String(64), unique=True)
    serial: Mapped[str] = mapped_column(sa.String(100))
    status: Mapped[str] = mapped_column(sa.String(20))


TEMPLATES = {
    "layout.html": """<!doctype html>
<html lang="fr"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{% block title %}{% endblock %}</title>
<link rel="stylesheet" href="{{ url_for('static', filename='app.css') }}">
<script src="{{ url_for('static', filename='app.js') }}" defer></script>
</head><body>
<header><nav><ul>
{% for name in ('Dashboard', 'Devices', 'Schools', 'Deliveries', 'Plans', 'History') %}
<li><a href="{{ url_for('me') }}">{{ name }}</a></li>
{% endfor %}
</ul><span>{{ current_user.email }}</span></nav></header>
<main>{% block content %}{% endblock %}</main>
</body></html>""",
    "item.html": """{% extends "layout.html" %}
{% block title %}{{ item.serial }}{% endblock %}
{% block content %}
<h1>{{ item.serial }} <span class="badge">{{ item.status }}</span></h1>
<dl>
<dt>Serial</dt><dd>{{ item.serial }}</dd>
<dt>Code</dt><dd>{{ item.token }}</dd>
<dt>Status</dt><dd>{{ item.status }}</dd>
<dt>Role</dt><dd>{{ current_user.role }}</dd>
<dt>Number</dt><dd>{{ item.id }}</dd>
</dl>
<img src="{{ url_for('item', token=item.token) }}" alt="">
{% endblock %}""",
}


def create_app(database_url: str | None = None) -> Flask:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = os.environ.get(KEY_VARIABLE) or os.urandom(32).hex()
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url or os.environ[URL_VARIABLE]
    app.jinja_loader = DictLoader(TEMPLATES)
    db.init_app(app)
    login_manager = LoginManager(app)
    login_manager.user_loader(lambda user_id: db.session.get(FloorUser, int(user_id)))

    @app.route("/healthz")
    def healthz():
        return "ok", 200, {"Content-Type": "text/plain", "Cache-Control": "no-store"}

    @app.route("/login", methods=["POST"])
    def login():
        """Signs in the one user (a throw-away app served on loopback for a benchmark)."""
        login_user(db.session.scalar(sa.select(FloorUser)))
        return "signed in"

    @app.route("/me")
    @login_required
    def me():
        return jsonify(email=current_user.email, role=current_user.role)

    @app.route("/item/<token>")
    @login_required
    def item(token: str):
        found = db.session.scalar(sa.select(FloorItem).where(FloorItem.token == token))
        return render_template("item.html", item=found)

    return app


def token(number: int) -> str:
    return f"floor-{number:09d}"


def fill(database_url: str, items: int) -> None:
    """(Re)create the floor's tables with one user and `items` rows."""
    app = create_app(database_url)
    with app.app_context():
        db.drop_all()
        db.create_all()
        if db.engine.dialect.name == "sqlite":
            with db.engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA journal_mode=WAL")
        with db.engine.begin() as connection:
            connection.execute(
                sa.insert(FloorUser), [{"email": "floor@bench.test", "role": "manager"}]
            )
            for start in range(0, items, 50_000):
                connection.execute(
                    sa.insert(FloorItem),
                    [
                        {"token": token(n), "serial": f"SN{n:09d}", "status": "in_stock"}
                        for n in range(start, min(items, start + 50_000))
                    ],
                )
        db.engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--items", type=int, default=200_000)
    args = parser.parse_args()
    fill(args.database_url, args.items)
    return 0


if __name__ == "__main__":
    sys.exit(main())
