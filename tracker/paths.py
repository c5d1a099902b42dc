"""Where the app's bundled resources live, in a source checkout and in an installed wheel.

In the repository `templates/`, `static/` and `migrations/` sit at the top level; the wheel
copies them into the package (see pyproject.toml), so both places are tried.
"""

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """Return the directory holding the named resource (templates, static, migrations)."""
    for candidate in (PACKAGE_DIR / name, PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"tracker resource directory {name!r} not found")
