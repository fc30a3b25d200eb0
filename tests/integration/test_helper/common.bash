# SPDX-License-Identifier: MIT
# Shared by every tests/integration/*.bats: `load test_helper/common`.
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

# The binary under test; tests/run.sh sets it to the built one.
FALLACY=${FALLACY:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)/.output/fallacy}
export FALLACY
