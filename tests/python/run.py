"""Runs the mfpo package's pytest suite (tests/python/meson.build): exit 77 (skipped) when pytest,
numpy or gymnasium are missing from this interpreter (scripts/test.sh installs them in
build/venv from tests/python/requirements.txt).

    run.py fast|slow [pytest args...]
"""
import importlib.util
import os
import sys

missing = [m for m in ("pytest", "numpy", "gymnasium") if importlib.util.find_spec(m) is None]
if missing:
    print(f"tests/python: {', '.join(missing)} not installed in {sys.executable}; skipped")
    sys.exit(77)
import pytest  # noqa: E402

which = sys.argv[1]
here = os.path.dirname(os.path.abspath(__file__))
args = [here, "-q", "-p", "no:cacheprovider", "-m", "slow" if which == "slow" else "not slow"] + sys.argv[2:]
sys.exit(pytest.main(args))
