"""The pure domain stays pure: the rules run the same on a live round, a .pb file or in a notebook."""

import subprocess
import sys

PURE = ["pb_engine.allocation", "pb_engine.ballots", "pb_engine.ballots.validation", "pb_engine.pabulib",
        "pb_engine.allocation.official", "pb_engine.phases"]
FORBIDDEN = ["flask", "flask_smorest", "sqlmodel", "sqlalchemy", "marshmallow", "pb_engine.store"]


def test_pure_domain_imports_no_web_or_storage_layer():
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in PURE)
        + "from pb_engine.allocation.registry import rule_ids; rule_ids()\n"
        + f"print(','.join(m for m in {FORBIDDEN!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"pure domain modules pulled in: {out.stdout.strip()}"


# The web layer reads through pb_engine's query and lookup functions and never writes SQL itself:
# no query builders imported from SQLModel/SQLAlchemy, no session.exec / connection.execute calls.
WEB = ["api"]
SQL_LIBS = ("sqlmodel", "sqlalchemy")
SQL_BUILDERS = {"select", "text", "func", "insert", "update", "delete", "and_", "or_", "join", "outerjoin"}
SQL_CALLS = {"exec", "execute", "exec_driver_sql", "scalars", "scalar"}


def sql_in_source(source: str, filename: str = "<source>") -> list[str]:
    """Where `source` builds or runs SQL, as 'file:line: what' strings."""
    import ast

    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in SQL_LIBS:
            for alias in node.names:
                if alias.name in SQL_BUILDERS or alias.name == "*":
                    found.append(f"{filename}:{node.lineno}: imports {alias.name} from {node.module}")
        elif isinstance(node, ast.Attribute) and node.attr in SQL_BUILDERS and isinstance(node.value, ast.Name) \
                and node.value.id in SQL_LIBS:
            found.append(f"{filename}:{node.lineno}: uses {node.value.id}.{node.attr}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SQL_CALLS:
            found.append(f"{filename}:{node.lineno}: calls .{node.func.attr}(")
    return found


def test_web_layer_writes_no_sql():
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    files = sorted(p for top in WEB for p in (root / top).rglob("*.py"))
    assert len(files) > 10, "the web layer's modules were not found"
    found = [hit for p in files for hit in sql_in_source(p.read_text(), str(p.relative_to(root)))]
    assert found == [], "the web layer builds or runs SQL; move it into pb_engine/queries or store/lookup:\n" \
        + "\n".join(found)


def test_sql_check_sees_each_way_of_writing_sql():
    source = (
        "from sqlmodel import Session, select\n"
        "from sqlalchemy import (func,\n    text)\n"
        "import sqlalchemy\n"
        "q = sqlalchemy.select(1)\n"
        "rows = s.exec(q)\n"
        "conn.execute(q)\n"
        "from sqlmodel import *\n"
    )
    hits = sql_in_source(source)
    assert len(hits) == 7, hits
    assert {h.split(": ", 1)[1] for h in hits} == {
        "imports select from sqlmodel", "imports func from sqlalchemy", "imports text from sqlalchemy",
        "uses sqlalchemy.select", "calls .exec(", "calls .execute(", "imports * from sqlmodel",
    }
    assert sql_in_source("from sqlmodel import Session\nfrom sqlalchemy.exc import IntegrityError\n"
                         "d.get('x')\nrequest.args.get('q')\n") == []
