"""``python -m skrobust``: the demo (see :mod:`skrobust.demo`)."""

from skrobust.demo import main

if __name__ == "__main__":
    raise SystemExit(main())
