#!/bin/sh
# docs/api.md is generated from the public header: it must be what the generator makes of the
# header now (regenerate: /usr/bin/python3 tools/gen_api_doc.py > docs/api.md).
set -eu
src=$1
python=$2
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
"$python" "$src/tools/gen_api_doc.py" >"$tmp"
if ! diff -u "$src/docs/api.md" "$tmp"; then
    echo "docs/api.md is out of date: run tools/gen_api_doc.py > docs/api.md"
    exit 1
fi
echo "docs/api.md matches the header"
