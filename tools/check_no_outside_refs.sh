#!/bin/sh
# Fails when a file under the given paths cites a document outside the repository: the project's
# former spec ("spec §N", "shared/spec") or the sibling directory "../shared" (tests and
# benchmarks may read MuJoCo models from there; they are not scanned). The algorithm is cited as
# docs/algorithm.md §N.
# Usage: check_no_outside_refs.sh SOURCE_ROOT PATH...
set -eu
root=$1
shift
cd "$root"
if grep -rnI --exclude=check_no_outside_refs.sh -e 'spec §' -e 'shared/spec' -e '\.\./shared' -- "$@"; then
    echo "the lines above refer to files outside the repository; cite docs/algorithm.md §N instead" >&2
    exit 1
fi
echo "no references outside the repository in: $*"
