"""``python -m ssbflow``: the ``ssbflow`` command (for a checkout run without installing)."""

from ssbflow.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
