#!/usr/bin/env bash
# Run one step of a make target with its full output in a log file, and print one line
# of summary: Rasa's progress bars would drown a terminal or a CI log.
#   scripts/step.sh NAME LOGFILE COMMAND [ARGS...]
# On failure the end of the log is shown and the exit code is passed on. A long step sets
# STEP_HINT (how long it takes): a line saying so comes first, or a new user would look
# at a silent terminal for minutes.
set -uo pipefail
name=$1 log=$2
shift 2
mkdir -p "$(dirname "$log")"
[ -n "${STEP_HINT:-}" ] && printf '  ...   %-22s %s (output: %s)\n' "$name" "$STEP_HINT" "$log"
start=$(date +%s)
"$@" >"$log" 2>&1
rc=$?
secs=$(( $(date +%s) - start ))
if [ $rc -eq 0 ]; then
  summary=""
  [ -n "${STEP_SUMMARY:-}" ] && summary=" - $(eval "$STEP_SUMMARY" 2>/dev/null)"
  printf '  ok    %-22s %4ss%s\n' "$name" "$secs" "$summary"
else
  printf '  FAIL  %-22s %4ss  (exit %s, full log: %s)\n' "$name" "$secs" "$rc" "$log"
  tail -n "${STEP_TAIL:-40}" "$log" | sed 's/^/        | /'
fi
exit $rc
