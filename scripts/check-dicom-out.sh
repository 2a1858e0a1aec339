#!/usr/bin/env bash
# DICOM objects out, read back by independent readers: builds nothing, runs Tests/dicom/check_dicom_out.py against
# the given binary. It makes ultrasound DICOM fixtures with pydicom (calibrated, uncalibrated, a cine loop, files
# without SOP Instance or Study Instance UID), segments them, and checks each STEM_seg.dcm and STEM_sr.dcm with
# highdicom and pydicom against the source, STEM_mask.png and the summary row; where dciodvfy (Debian dicom3tools)
# is installed it validates every object too (errors fail the check, warnings are listed).
# Needs python3 with numpy, pydicom and highdicom (scripts/bootstrap --test installs them).
# Usage: scripts/check-dicom-out.sh SONOSEG [--keep DIR]
set -euo pipefail
BIN=$(realpath "${1:?sonoseg binary}")
shift
cd "$(dirname "$0")/.."
exec python3 Tests/dicom/check_dicom_out.py "$BIN" "$@"
