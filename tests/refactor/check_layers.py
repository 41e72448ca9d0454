#!/usr/bin/env python3
"""Fails on any #include in lib/ or cuda/ that points up the layer order (lib/README.md).

    check_layers.py SOURCE_ROOT     check the tree; prints every violation, exit 1 if any
    check_layers.py --self-test     checks that planted upward includes are caught

Layers, top to bottom, and what each may include (besides itself, the public <mfpo/...>
headers and system headers):

    api      lib/api      algo, io, nn, backend, core
    algo     lib/algo     io, nn, backend, core
    io       lib/io       core            (the checkpoint container: bytes, sections, files)
    nn       lib/nn       backend, core
    backend  lib/backend  core            (cuda/ is a backend module: backend, core)
    core     lib/core     -

cuda/kernels_mfpo.cu is the CUDA module's implementation of lib/algo's kernel table
(lib/algo/kernels.h) and counts as algo. The public headers may also be included by path
("../include/mfpo/status.h").

An include is resolved against the including file's directory ("../algo/x.h") and must land in
a known layer; a quoted include that leaves lib/ (other than cuda/ reaching lib/backend) fails too.
"""
import os
import re
import sys
import tempfile

ALLOWED = {
    "api": {"api", "algo", "io", "nn", "backend", "core"},
    "algo": {"algo", "io", "nn", "backend", "core"},
    "io": {"io", "core"},
    "nn": {"nn", "backend", "core"},
    "backend": {"backend", "core"},
    "core": {"core"},
}
ALGO_FILES = {"cuda/kernels_mfpo.cu"}
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
SOURCES = (".c", ".h", ".cu", ".cuh")


def layer_of(root, path):
    rel = os.path.relpath(path, root).replace(os.sep, "/")
    parts = rel.split("/")
    if parts[0] == "cuda":
        return "algo" if rel in ALGO_FILES else "backend"
    if parts[0] == "include":
        return "public"
    if parts[0] == "lib" and len(parts) > 2 and parts[1] in ALLOWED:
        return parts[1]
    return None


def check(root):
    errors = []
    for top in ("lib", "cuda"):
        for d, _, files in os.walk(os.path.join(root, top)):
            for f in sorted(files):
                if not f.endswith(SOURCES):
                    continue
                path = os.path.join(d, f)
                mine = layer_of(root, path)
                if mine is None:
                    errors.append(f"{os.path.relpath(path, root)}: not inside a layer directory")
                    continue
                with open(path, encoding="utf-8", errors="replace") as fh:
                    for n, line in enumerate(fh, 1):
                        m = INCLUDE.match(line)
                        if not m or m.group(1) == "<":
                            continue  # public <mfpo/...> and system headers
                        target = os.path.normpath(os.path.join(d, m.group(2)))
                        theirs = layer_of(root, target)
                        where = f"{os.path.relpath(path, root)}:{n}"
                        if theirs == "public":
                            continue
                            errors.append(f'{where}: "{m.group(2)}" is outside the layers of lib/')
                        elif theirs not in ALLOWED[mine]:
                            errors.append(f'{where}: {mine} includes "{m.group(2)}" of layer {theirs}, '
                                          f"which is not below it")
    return errors


def self_test():
    ok = True
    cases = [
        ("lib/core/ctx.h", '#include "../backend/backend.h"\n', True),
        ("lib/algo/train.c", '#include "../api/replay_internal.h"\n', True),
        ("lib/nn/net.c", '#include "../algo/internal.h"\n', True),
        ("lib/io/file.c", '#include "../nn/net.h"\n', True),
        ("lib/algo/x.c", '  #  include "../nn/net.h"\n#include <mfpo/agent.h>\n#include "x.h"\n', False),
        ("cuda/k.cu", '#include "../lib/backend/backend.h"\n', False),
        ("cuda/k.cu", '#include "../lib/algo/update.h"\n', True),
        ("lib/backend/cpu/b.c", '#include "../../core/alloc.h"\n#include "../backend.h"\n', False),
        ("cuda/kernels_mfpo.cu", '#include "../lib/algo/kernels.h"\n#include "cuda_internal.cuh"\n', False),
        ("cuda/backend.cu", '#include "../include/mfpo/status.h"\n', False),
        ("lib/backend/x.c", '#include "../../tests/helper.h"\n', True),
    ]
    for name, text, bad in cases:
        with tempfile.TemporaryDirectory() as root:
            for layer in ALLOWED:
                os.makedirs(os.path.join(root, "lib", layer), exist_ok=True)
            with open(os.path.join(root, "cuda_internal.cuh"), "w"):
                pass
            path = os.path.join(root, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as fh:
                fh.write(text)
            found = check(root)
            if bool(found) != bad:
                print(f"self-test FAILED for {name} {text!r}: {found or 'nothing found'}")
                ok = False
    print("self-test: " + ("OK" if ok else "FAILED"))
    return ok


def main():
    if sys.argv[1:] == ["--self-test"]:
        sys.exit(0 if self_test() else 1)
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    errors = check(sys.argv[1])
    for e in errors:
        print(e)
    if errors:
        print(f"FAIL: {len(errors)} include(s) point up the layer order (see lib/README.md)")
        sys.exit(1)
    print("OK: every include of lib/ and cuda/ points down the layer order (api > algo > io > core, algo > nn > backend > core)")


if __name__ == "__main__":
    main()
