#!/usr/bin/env bash
# The reading room end to end, as `make test` runs it (every request to 127.0.0.1; each script starts and stops
# its own servers on temporary roots):
#   hostile.py   path traversal, oversized, malformed and truncated uploads, wrong tokens, 10,000 fuzzed
#                requests: never a 5xx, a crash or a hang
#   load.py      1,000 POST /v1/segment from 32 clients, each mask's SHA-256 equal to `sonoseg segment`'s;
#                SIGTERM finishes in-flight requests; kill -9 mid-save leaves the old or the new mask
#   test_workstation.py   the page in headless Chromium: upload, outline, diagnosis, paint, save, keyboard
set -euo pipefail
SERVER=${1:-.build/debug/sonoseg-serve}
CLI=${2:-.build/debug/sonoseg}
cd "$(dirname "$0")/.."
python3 Tests/serve/hostile.py --server "$SERVER"
python3 Tests/serve/load.py --server "$SERVER" --sonoseg "$CLI" --size 256
python3 Tests/browser/test_workstation.py --server "$SERVER"
