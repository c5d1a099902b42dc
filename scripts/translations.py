"""Keep the message catalogues in step with the code.

    .venv/bin/python scripts/translations.py extract   # strings from tracker/ and templates/
    .venv/bin/python scripts/translations.py update    # merge them into fr, ar and en .po

Translate the new or changed entries in tracker/translations/<lang>/LC_MESSAGES/messages.po
(a test fails while a French or Arabic one is missing). The app compiles the .po files
itself when it starts (tracker/i18n.py), so there is no build step.
"""

import os
import sys
from pathlib import Path

from babel.messages.frontend import CommandLineInterface

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = ROOT / "tracker" / "translations"
TEMPLATE = CATALOGUES / "messages.pot"


def pybabel(*arguments: str) -> None:
    os.chdir(ROOT)
    CommandLineInterface().run(["pybabel", *arguments])


def extract() -> None:
    pybabel(
        *("extract", "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext"),
        *("-k", "plural_forms:1,2", "--no-location"),
        *("--omit-header", "--sort-output", "-o", str(TEMPLATE), "."),
    )


def update() -> None:
    for language in ("fr", "ar", "en"):
        po = CATALOGUES / language / "LC_MESSAGES" / "messages.po"
        command = "update" if po.exists() else "init"
        extra = ["--no-fuzzy-matching"] if command == "update" else []
        pybabel(command, "-i", str(TEMPLATE), "-d", str(CATALOGUES), "-l", language, *extra)


if __name__ == "__main__":
    {"extract": extract, "update": update}[sys.argv[1]]()
