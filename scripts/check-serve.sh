#!/usr/bin/env bash
# The reading room end to end, as `make test` runs it (every request to 127.0.0.1; each script starts and stops
# its own servers on temporary roots):
#   hostile.py   path traversal, oversized, malformed and truncated uploads, wrong tokens, fuzzed requests
#                (4,000; FULL=1: 10,000): never a 5xx, a crash or a hang
#   load.py      POST /v1/segment from 32 clients (400; FULL=1: 1,000), each mask's SHA-256 equal to
#                `sonoseg segment`'s; SIGTERM finishes in-flight requests; kill -9 mid-save leaves the old or the
#                new mask (8 loops; FULL=1: 20)
#   test_workstation.py   the page in headless Chromium: upload, outline, diagnosis, paint, save, keyboard
set -euo pipefail
SERVER=${1:-.build/debug/sonoseg-serve}
CLI=${2:-.build/debug/sonoseg}
cd "$(dirname "$0")/.."
# make test's budget (15 minutes on 2 cores for everything) takes the smaller counts; FULL=1 the release figures.
if [ "${FULL:-0}" = 1 ]; then FUZZ=10000 REQUESTS=1000 LOOPS=20; else FUZZ=4000 REQUESTS=400 LOOPS=8; fi
python3 Tests/serve/hostile.py --server "$SERVER" --fuzz $FUZZ
python3 Tests/serve/load.py --server "$SERVER" --sonoseg "$CLI" --size 256 --requests $REQUESTS --kill-loops $LOOPS
python3 Tests/browser/test_workstation.py --server "$SERVER"
