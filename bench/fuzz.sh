#!/usr/bin/env bash
# The loader fuzz campaigns of tests/Dsl.Tests/Fuzzing, SCALE times larger than in CI (default 25: about 93,000
# cases), with one line of counts per campaign. Usage: bench/fuzz.sh [SCALE]
set -euo pipefail
cd "$(dirname "$0")/.."
report=$(mktemp)
KILN_FUZZ_SCALE="${1:-25}" KILN_FUZZ_REPORT="$report" \
  dotnet test tests/Dsl.Tests -c Release --filter "FullyQualifiedName~Kiln.Tests.Fuzzing" --logger "console;verbosity=minimal"
cat "$report"
rm -f "$report"
