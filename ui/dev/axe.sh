#!/usr/bin/env bash
# axe-core (all rules, colour contrast included) in headless Chromium over every tab and state
# of the built page, served by the fake API with --axe. Exit 1 on any violation.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-5175}
CHROMIUM=${CHROMIUM:-chromium}
bad=0

check() {  # check URL-PATH [fake_api args...]
  local path=$1
  shift
  python3 dev/fake_api.py --port "$PORT" --axe "$@" >/dev/null 2>&1 &
  local pid=$!
  for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/env.js" >/dev/null && break; sleep 0.1; done
  local out
  out=$("$CHROMIUM" --headless --no-sandbox --disable-gpu --virtual-time-budget=15000 --window-size=1400,1000 \
    --dump-dom "http://127.0.0.1:$PORT$path" 2>/dev/null | python3 -c '
import html, json, re, sys
m = re.search(r"<pre id=\"axe-result\">(.*?)</pre>", sys.stdin.read(), re.S)
print(json.dumps(json.loads(html.unescape(m.group(1)))) if m else "axe did not run")')
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo "$path $*: $out"
  [[ $out == "[]" ]] || bad=1
}

check '/#overview'
check '/#subscription'
check '/#plans'
check '/#addons'
check '/#subscription' --status canceling
check '/#plans' --provider none
check '/#overview' --provider whmcs
check '/#overview' --no-plan
check '/' --role project
check '/' --role guest
check '/' --fail
exit $bad
