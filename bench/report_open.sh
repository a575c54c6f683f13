#!/usr/bin/env bash
# Opens a run's report in headless Chromium and measures how long it takes to be usable.
#
# A nightly's report must open at any size (docs/report.md, "Large runs"). This loads
# REPORT#selftest REPS times, which renders the page, then drives it as a user would (zoom,
# drag, an op link, hover: the page's own self-test) and records the outcome on <body>. Printed
# per load:
#   - render_ms: the page script's own time from its first line to the end of the first render
#     (`data-render-ms`), which is when the page answers clicks;
#   - wall_s: the whole browser process, start to exit (start-up, parse, render, self-test);
# and the file's size. Exits 1 if the self-test fails or the page never rendered, 2 when Chromium
# is missing.
#
#   bench/report_open.sh REPORT.html        env: REPS=3  CHROMIUM=/usr/bin/chromium
set -uo pipefail
report=${1:?usage: bench/report_open.sh REPORT.html}
reps=${REPS:-3}
chromium=${CHROMIUM:-/usr/bin/chromium}
[ -x "$chromium" ] || { echo "needs $chromium (apt-get install -y chromium)" >&2; exit 2; }
[ -f "$report" ] || { echo "no such report: $report" >&2; exit 2; }
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
url="file://$(cd "$(dirname "$report")" && pwd)/$(basename "$report")#selftest"
bytes=$(stat -c %s "$report")
echo "report: $report ($(awk -v b="$bytes" 'BEGIN { printf "%.1f MB", b / 1e6 }'))"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
status=0
for i in $(seq "$reps"); do
  t0=$(date +%s%N)
  dom=$(timeout -k 5 300 "$chromium" --headless --no-sandbox --disable-gpu \
    --disable-dev-shm-usage --disable-background-networking --hide-scrollbars \
    --window-size=1400,2800 --user-data-dir="$profile" --dump-dom "$url" 2>/dev/null)
  t1=$(date +%s%N)
  render=$(grep -o 'data-render-ms="[0-9]*"' <<<"$dom" | head -1 | grep -o '[0-9]*')
  selftest=$(grep -o 'data-selftest="[^"]*"' <<<"$dom" | head -1 | sed 's/data-selftest=//')
  printf 'load %d: render_ms %s  wall_s %.2f  selftest %s\n' "$i" "${render:-none}" \
    "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print (b - a) / 1e9 }')" "${selftest:-none}"
  [ -n "$render" ] && [ "$selftest" = '"ok"' ] || status=1
done
exit $status
