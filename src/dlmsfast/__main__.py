"""``python -m dlmsfast``: the command line."""
from .cli import main

raise SystemExit(main())
