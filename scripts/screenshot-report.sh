#!/usr/bin/env bash
# Renders a SonoSeg report.html in headless Chromium (Debian `chromium`) to a PNG, to look at it as a reader would.
# Usage: scripts/screenshot-report.sh FOLDER/report.html OUT.png [WIDTHxHEIGHT]
set -euo pipefail
html=$(realpath "$1"); out=$2; size=${3:-1360,1900}
command -v chromium >/dev/null || { echo "needs chromium (apt-get install chromium)" >&2; exit 1; }
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size="${size/x/,}" --screenshot="$out" "file://$html" 2>/dev/null
echo "$out"
