#!/bin/sh
# Prints the fenced code block that follows the line "<!-- example: NAME -->" in a Markdown file,
# so the tests compile and run the README's examples exactly as written.
set -eu
file=$1
name=$2
awk -v marker="<!-- example: $name -->" '
    $0 == marker { armed = 1; next }
    armed && /^```/ { if (inside) exit; inside = 1; next }
    inside { print }
' "$file"
