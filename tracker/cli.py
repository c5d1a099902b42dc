"""The `tracker` console script: Flask's CLI bound to the app factory.

`tracker run`, `tracker db upgrade` (Flask-Migrate), and every feature's command group.
"""

from flask.cli import FlaskGroup


def _create_app():
    from tracker import create_app

    return create_app()


def main() -> None:
    cli = FlaskGroup(create_app=_create_app, help="Tablet distribution tracker.")
    cli.main(prog_name="tracker")
