#!/usr/bin/python3
"""Generates docs/api.md, the reference of every public function grouped by handle, from the
comments of include/alexnet/alexnet.h, so the two cannot drift apart (tests/check_api_doc.sh
compares them).

    /usr/bin/python3 tools/gen_api_doc.py > docs/api.md
"""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
HEADER = os.path.join(HERE, "..", "include", "alexnet", "alexnet.h")

SECTION = re.compile(r"/\* -{20,}\n \* (?P<title>[^\n]+)\n(?P<body>.*?) \* -{20,} \*/", re.S)
DECLARATION = re.compile(
    r"(?P<comment>(?:/\*(?:(?!\*/).)*\*/\s*)?)"
    r"ALEXNET_API\s+(?P<decl>[^;]+);", re.S)
TYPEDEF = re.compile(r"typedef (?:struct|enum) (?P<name>alexnet_\w+) \{(?P<body>.*?)\} (?P=name);",
                     re.S)


def clean_comment(comment):
    text = re.sub(r"^/\*+|\*/$", "", comment.strip()).strip()
    lines = [re.sub(r"^\s*\*\s?", "", line) for line in text.splitlines()]
    return " ".join(line.strip() for line in lines if line.strip())


def clean_decl(decl):
    return re.sub(r"\s+", " ", decl).replace("( ", "(").strip()


def main():
    with open(HEADER) as f:
        source = f.read()
    out = ["# libalexnet API reference", "",
           "Generated from `include/alexnet/alexnet.h` by `tools/gen_api_doc.py`; the header's",
           "comments are the source. Conventions that hold for every function (status codes,",
           "`alexnet_last_error`, ownership of handles, configuration structs) are stated at the",
           "top of the header and in the README's *Error model*.", ""]
    sections = list(SECTION.finditer(source))
    for i, section in enumerate(sections):
        end = sections[i + 1].start() if i + 1 < len(sections) else len(source)
        chunk = source[section.end():end]
        if not DECLARATION.search(chunk):
            continue  # the export macro itself
        out += [f"## {section.group('title').strip()}", ""]
        intro = clean_comment("/*" + section.group("body") + "*/")
        if intro.strip("/ "):
            out += [intro, ""]
        for typedef in TYPEDEF.finditer(chunk):
            out += ["```c", typedef.group(0), "```", ""]
        for match in DECLARATION.finditer(chunk):
            decl = clean_decl(match.group("decl"))
            name = re.search(r"(alexnet_\w+)\s*\(", decl).group(1)
            out += [f"### `{name}`", "", "```c", decl + ";", "```", ""]
            comment = clean_comment(match.group("comment")) if match.group("comment") else ""
            if comment:
                out += [comment, ""]
    sys.stdout.write("\n".join(out).rstrip() + "\n")


if __name__ == "__main__":
    main()
