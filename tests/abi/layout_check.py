#!/usr/bin/env python3
"""Exact layout check of the option structs that may grow (docs/abi.md).

abidiff's `has_data_member_inserted_at = end` suppression (abi/libmfpo.abignore) lets members
appended to these structs pass, but libabigail applies it to any change of the struct that inserts
nothing at all (a reordered or retyped member, say). This script closes that hole: for each struct
named on the command line, every member of the baseline must still be there with the same name,
the same type and the same offset, and new members may only start at or after the baseline's size.

    layout_check.py BASELINE.abi CURRENT.abi STRUCT...

Exit status 0 when every struct passes; each problem is printed.
"""
import sys
import xml.etree.ElementTree as ET


def load(path):
    root = ET.parse(path).getroot()
    by_id = {}
    for el in root.iter():
        tid = el.get("id")
        if tid is not None:
            by_id[tid] = el
    return root, by_id


def type_name(by_id, tid, depth=0):
    """A spelling of a type that is stable across two ABI files (ids are per file)."""
    el = by_id.get(tid)
    if el is None or depth > 20:
        return "?"
    tag = el.tag
    if tag in ("type-decl", "typedef-decl", "class-decl", "union-decl", "enum-decl"):
        return el.get("name", "?")
    if tag == "pointer-type-def":
        return type_name(by_id, el.get("type-id"), depth + 1) + "*"
    if tag == "qualified-type-def":
        quals = " ".join(q for q in ("const", "volatile") if el.get(q) == "yes")
        return quals + " " + type_name(by_id, el.get("type-id"), depth + 1)
    if tag == "array-type-def":
        return type_name(by_id, el.get("type-id"), depth + 1) + "[%s]" % el.get("size-in-bits", "?")
    if tag == "function-type":
        params = [type_name(by_id, p.get("type-id"), depth + 1) for p in el.findall("parameter")]
        ret = el.find("return")
        rname = type_name(by_id, ret.get("type-id"), depth + 1) if ret is not None else "void"
        return "%s(%s)" % (rname, ", ".join(params))
    return tag


def struct_layout(root, by_id, name):
    for el in root.iter("class-decl"):
        if el.get("name") == name and el.get("is-declaration-only") != "yes":
            members = []
            for dm in el.findall("data-member"):
                var = dm.find("var-decl")
                members.append((var.get("name"), type_name(by_id, var.get("type-id")),
                                int(dm.get("layout-offset-in-bits"))))
            return int(el.get("size-in-bits")), members
    return None


def main(argv):
    if len(argv) < 4:
        print(__doc__)
        return 2
    base_root, base_ids = load(argv[1])
    cur_root, cur_ids = load(argv[2])
    problems = 0
    for name in argv[3:]:
        old = struct_layout(base_root, base_ids, name)
        new = struct_layout(cur_root, cur_ids, name)
        if old is None:
            print("%s: not in the baseline" % name)
            problems += 1
            continue
        if new is None:
            print("%s: missing from the current library" % name)
            problems += 1
            continue
        old_size, old_members = old
        new_size, new_members = new
        if new_size < old_size:
            print("%s: size shrank from %d to %d bits" % (name, old_size, new_size))
            problems += 1
        if new_members[: len(old_members)] != old_members:
            for i, m in enumerate(old_members):
                n = new_members[i] if i < len(new_members) else None
                if n != m:
                    print("%s: member %d was %s %s at bit %d, is now %s" % (
                        name, i, m[1], m[0], m[2], "%s %s at bit %d" % (n[1], n[0], n[2]) if n else "gone"))
                    problems += 1
                    break
        for m in new_members[len(old_members):]:
            if m[2] < old_size:
                print("%s: new member %s %s at bit %d lies inside the old size (%d bits)" % (
                    name, m[1], m[0], m[2], old_size))
                problems += 1
        appended = [m[0] for m in new_members[len(old_members):]]
        if appended and not problems:
            print("%s: appended %s (compatible)" % (name, ", ".join(appended)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
