#!/usr/bin/env bash
# Headless Chromium screenshots of every tab and state of the built page, served by the fake API.
# Needs Debian's chromium (apt-get install chromium fonts-dejavu-core). Output: dev/screenshots/.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-5174}
OUT=dev/screenshots
mkdir -p "$OUT"
CHROMIUM=${CHROMIUM:-chromium}

shoot() {  # shoot NAME URL-PATH [fake_api args...]
  local name=$1 path=$2
  shift 2
  python3 dev/fake_api.py --port "$PORT" "$@" >"$OUT/$name.log" 2>&1 &
  local pid=$!
  for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/env.js" >/dev/null && break; sleep 0.1; done
  "$CHROMIUM" --headless --no-sandbox --disable-gpu --hide-scrollbars --virtual-time-budget=8000 \
    --window-size=1400,${HEIGHT:-1000} --screenshot="$PWD/$OUT/$name.png" "http://127.0.0.1:$PORT$path" >/dev/null 2>&1
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo "$OUT/$name.png"
}

HEIGHT=1900 shoot overview '/#overview'
HEIGHT=1900 shoot history-downgrade '/#overview' --advice downgrade
HEIGHT=1900 shoot history-upgrade '/#overview' --advice upgrade
HEIGHT=1900 shoot history-unavailable '/#overview' --history-fail
shoot no-history '/#overview' --no-history
shoot subscription '/#subscription'
HEIGHT=1150 shoot plans '/#plans'
shoot addons '/#addons'
shoot checkout-return '/?sessionId=cs_test_pro-pool#overview'
shoot canceling '/#subscription' --status canceling
shoot provider-none '/#plans' --provider none
shoot provider-whmcs '/#overview' --provider whmcs
shoot no-plan '/#overview' --no-plan
shoot project-user '/' --role project
shoot guest '/' --role guest
shoot api-error '/' --fail
