"""A page hands its template lists, never a lazy database result.

A result the template leaves unread (a filter a role does not see) keeps its SQLite
statement open; Python 3.11's sqlite3 keeps it open across the rollback that returns the
connection to the pool, so that connection's stale read snapshot refused the next write on
it ("the database is busy", a field agent's sign-in after a scan) until the garbage
collector freed it. This reads the views' code: a `db.session.scalars(...)` or
`.execute(...)` given straight to `render_template` (or inside a dict or list given to it)
must be read whole first (`.all()`, `.first()`, `.one()`, `list(...)`)."""

import ast
from pathlib import Path

TRACKER = Path(__file__).resolve().parent.parent / "tracker"
LAZY = {"scalars", "execute"}


def _lazy_queries(node: ast.AST):
    """Calls `db.session.scalars(...)` / `db.session.execute(...)` in `node` that are not
    read whole by a method called on them."""
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in LAZY:
            owner = func.value
            if isinstance(owner, ast.Attribute) and owner.attr == "session":
                yield node
                return
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call):
            return  # `...scalars(...).all()`: read whole
        if isinstance(func, ast.Name) and func.id in {"list", "tuple", "dict", "set"}:
            return
    if isinstance(node, ast.Dict | ast.List | ast.Tuple):
        for child in [*getattr(node, "values", []), *getattr(node, "elts", [])]:
            yield from _lazy_queries(child)


def test_no_template_gets_a_lazy_database_result():
    found = []
    for path in TRACKER.rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        for call in ast.walk(tree):
            if not (
                isinstance(call, ast.Call) and getattr(call.func, "id", "") == "render_template"
            ):
                continue
            for value in [*call.args[1:], *(keyword.value for keyword in call.keywords)]:
                for lazy in _lazy_queries(value):
                    found.append(f"{path.relative_to(TRACKER.parent)}:{lazy.lineno}")
    assert found == []


def test_the_check_sees_the_case_it_was_written_for():
    source = (
        "render_template('x.html', regions=db.session.scalars(q),"
        " places={'a': db.session.scalars(q)}, fine=db.session.scalars(q).all())"
    )
    call = ast.parse(source).body[0].value
    lazy = [node for kw in call.keywords for node in _lazy_queries(kw.value)]
    assert len(lazy) == 2
