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
