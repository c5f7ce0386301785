"""Entry point so that cron, systemd and Kubernetes can all run `python -m retention`."""

from retention.cli import main

raise SystemExit(main())
