"""Entry point: `python -m insights report|questions`."""

from insights.cli import main

raise SystemExit(main())
