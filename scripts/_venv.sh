# Sourced by scripts/run and scripts/test: create or refresh .venv and install pb_engine into it.
# Usage: ensure_venv EXTRAS   (e.g. "" or "test"). Reinstalls only when pyproject.toml changed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${PB_VENV:-$ROOT/.venv}"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore PIP_NO_INPUT=1

ensure_venv() {
    local extras="$1" python="${PYTHON:-python3}" spec stamp want
    if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        echo "pb_engine needs Python 3.11 or newer ($python is $("$python" --version 2>&1)); set PYTHON=/path/to/python3.11" >&2
        exit 1
    fi
    if [ ! -x "$VENV/bin/python" ]; then
        echo "creating $VENV" >&2
        "$python" -m venv "$VENV"
    fi
    spec="."
    [ -n "$extras" ] && spec=".[$extras]"
    stamp="$VENV/.pb_engine-installed${extras:+-$extras}"
    want="$(cat "$ROOT/pyproject.toml" | sha256sum | cut -d' ' -f1)"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ] || ! "$VENV/bin/python" -c 'import pb_engine' 2>/dev/null; then
        echo "installing pb_engine${extras:+ with [$extras]} into $VENV (quiet; takes a minute the first time)" >&2
        (cd "$ROOT" && "$VENV/bin/python" -m pip install -qq -e "$spec")
        echo "$want" > "$stamp"
    fi
}
