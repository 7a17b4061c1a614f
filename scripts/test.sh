#!/usr/bin/env bash
# The tests on a fresh machine: set up .venv (scripts/setup.sh, with pytest and scipy), then run pytest.
# Arguments go to pytest: `bash scripts/test.sh -x -q tests/spectra`. Exits with pytest's status (5, "no tests
# collected", is a failure too). Real-data tests read FREQPROBE_DATA (default ../shared/data); with CI set they fail
# instead of skipping when the data is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/setup.sh
source scripts/setup.sh test
exec python -m pytest -q -p no:cacheprovider "$@"
