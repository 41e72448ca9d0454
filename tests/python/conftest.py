"""pytest setup for the mfpo package's tests (tests/python/meson.build runs them against the
build's library: MFPO_LIBRARY and PYTHONPATH=<source>/python; or against an installed package)."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)  # cpendulum
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
