#!/usr/bin/env bash
# ABI check of a fresh build against the committed baseline abi/libmfpo.so.0.abi (docs/abi.md).
#
#   tests/abi/check.sh [BUILD_DIR]          (default: <repo>/build)
#   tests/abi/check.sh --update [BUILD_DIR] rewrites the baseline from this build (at a release only)
#
# 1. The shared library of BUILD_DIR is used when it carries debug information; otherwise (a
#    release build) the library alone is rebuilt with -g in BUILD_DIR/abi-check.
# 2. Its soname must be the baseline's (libmfpo.so.0).
# 3. abidw describes it exactly as the baseline was made (public headers only, private types
#    dropped), and abidiff compares the two with abi/libmfpo.abignore: a removed or changed
#    function, a changed public type, a renumbered enumerator all fail; added functions and
#    enumerators pass.
# 4. tests/abi/layout_check.py checks the option structs member by member: only members appended
#    after the old end may appear (abidiff's suppression alone would let reorderings through).
#
# Exit status 0 when compatible. Updating the baseline at a release: docs/abi.md.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
update=0
if [ "${1:-}" = "--update" ]; then
    update=1
    shift
fi
build=$(cd "${1:-$root/build}" && pwd)
baseline="$root/abi/libmfpo.so.0.abi"
supp="$root/abi/libmfpo.abignore"
growable=(mfpo_context_options mfpo_agent_config mfpo_env mfpo_train_options mfpo_progress)

for tool in abidw abidiff readelf python3; do
    command -v "$tool" >/dev/null || { echo "abi check: $tool not found (Debian: abigail-tools, binutils)"; exit 77; }
done

find_lib() { ls "$1"/lib/libmfpo.so.[0-9]*.[0-9]*.[0-9]* 2>/dev/null | head -n 1; }
lib=$(find_lib "$build")
if [ -z "$lib" ] || ! readelf -S "$lib" | grep -q '\.debug_info'; then
    dbg="$build/abi-check"
    echo "abi check: ${lib:-no library} has no debug information; building the library with -g in $dbg"
    opts=(-Dbuildtype=release -Ddebug=true -Dtests=false -Dexamples=false -Ddocs=disabled)
    for o in bench=false cuda=disabled; do
        grep -q "option('${o%%=*}'" "$root/meson_options.txt" && opts+=("-D$o")
    done
    if [ -f "$dbg/meson-private/coredata.dat" ]; then
        meson setup --reconfigure "$dbg" "$root" "${opts[@]}" >/dev/null
    else
        meson setup "$dbg" "$root" "${opts[@]}" >/dev/null
    fi
    meson compile -C "$dbg" mfpo:shared_library >/dev/null
    lib=$(find_lib "$dbg")
fi
echo "abi check: $lib against $baseline"

want_soname=$(sed -n "s/.*<abi-corpus [^>]*soname='\([^']*\)'.*/\1/p" "$baseline" | head -n 1)
have_soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
if [ "$update" = 0 ] && [ "$want_soname" != "$have_soname" ]; then
    echo "abi check: FAILED: soname $have_soname, the baseline has $want_soname"
    exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
abidw --headers-dir "$root/include/mfpo" --drop-private-types --no-show-locs --no-corpus-path \
    --no-comp-dir-path --out-file "$tmp/current.abi" "$lib"

if [ "$update" = 1 ]; then
    cp "$tmp/current.abi" "$baseline"
    echo "abi check: baseline $baseline rewritten from $lib"
    exit 0
fi

status=0
python3 "$root/tests/abi/layout_check.py" "$baseline" "$tmp/current.abi" "${growable[@]}" || status=1
if ! abidiff --suppressions "$supp" --no-added-syms "$baseline" "$tmp/current.abi" >"$tmp/report.txt"; then
    status=1
fi
cat "$tmp/report.txt"
# what was added (compatible), for the record
abidiff --suppressions "$supp" "$baseline" "$tmp/current.abi" 2>/dev/null | grep -E "^  \[A\]" || true
if [ "$status" -ne 0 ]; then
    echo "abi check: FAILED: incompatible change against abi/libmfpo.so.0.abi (docs/abi.md)"
    exit 1
fi
echo "abi check: compatible with abi/libmfpo.so.0.abi"
