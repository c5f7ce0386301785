#!/usr/bin/env bash
# Usage: scripts/free-ports.sh HOST PORT...
# `make run` calls this first: when a port it needs is taken (usually by an earlier
# `make run` still running), say so in one line per port and fail, instead of starting
# the other processes and stopping them again after a server's bind traceback.
set -uo pipefail
host=${1:?usage: free-ports.sh HOST PORT...}
shift
[ "$host" = 0.0.0.0 ] && host=127.0.0.1
busy=0
for port in "$@"; do
  if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then
    echo "  port $port is already in use on $host: is another \`make run\` or \`make shell\`" \
      "still running? Stop it (Ctrl-C in its terminal) and try again." >&2
    busy=1
  fi
done
exit "$busy"
