#!/usr/bin/env bash
# Starts crest serve for `make run`. On an empty data directory it offers to
# load the demo music app's events once the server is ready.
set -euo pipefail
BIN=${BIN:-bin/crest}
DATA=${DATA:-./crest-data}
ADDR=${ADDR:-:8080}
port=${ADDR##*:}

fresh=0
if [ ! -e "$DATA/meta.db" ]; then fresh=1; fi

out=$(mktemp)
"$BIN" serve --data "$DATA" --addr "$ADDR" > >(tee "$out") &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid; rm -f "$out"' INT TERM

# ready answers whether /readyz says 200 (plain bash: no curl needed).
ready() {
  local line
  { exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null || return 1
  printf 'GET /readyz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
  read -r line <&3 || true
  exec 3<&- 3>&-
  [[ "$line" == *" 200 "* ]]
}

for _ in $(seq 1 300); do
  if ready; then break; fi
  if ! kill -0 $pid 2>/dev/null; then wait $pid; exit $?; fi
  sleep 0.2
done

if [ "$fresh" = 1 ] && [ -t 0 ]; then
  key=$(sed -n 's/^  API key: *//p' "$out" | head -n1)
  printf '\nThe data directory was empty. Load the demo music app (1,000,000 events over 90 days)? [Y/n] '
  read -r answer || answer=n
  case "$answer" in
    ""|y|Y|yes) "$BIN" demo --url "http://127.0.0.1:$port" --api-key "$key" --events 1000000 ;;
    *) echo "Skipped. Load it later with: $BIN demo --url http://127.0.0.1:$port --api-key $key" ;;
  esac
fi
wait $pid
