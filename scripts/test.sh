#!/usr/bin/env bash
# The project's test command (README, set-up step 2; .ci/run runs it):
# installs the system packages some tests use when they are missing
# (rsyslog's Elasticsearch output for the `vigil serve` shipping test),
# then vets and tests every package. Tests that need ../shared skip with a
# message when it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-test-deps.sh
go version
go vet ./...
go test -count=1 "$@" ./...
