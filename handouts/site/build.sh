#!/bin/sh
# build.sh - render the handouts as an HTML site: an index, one page per
# lab with previous/next links, highlighted code, man-page links, pictures.
#
# Usage: sh handouts/site/build.sh OUT      (make handouts)
set -eu
out=$1
here=handouts/site
mkdir -p "$out"
cp "$here/style.css" "$out/"
if [ -d handouts/img ]; then
    cp -R handouts/img "$out/"
fi

title() {                               # "# Lab 01: mmap of /dev/zero" -> text
    sed -n '1s/^# *//p' "handouts/$1.md"
}

pages=
for f in handouts/[0-9][0-9]-*.md; do
    f=${f##*/}
    pages="$pages ${f%.md}"
done
prev=
# shellcheck disable=SC2086  # the page names are words
set -- $pages
for page in $pages; do
    shift
    next=${1:-}
    pandoc "handouts/$page.md" --from gfm+attributes --standalone --toc \
        --toc-depth=1 --shift-heading-level-by=-1 --template="$here/template.html" \
        --lua-filter="$here/man.lua" --highlight-style=tango \
        --metadata pagetitle="$(title "$page")" \
        ${prev:+--variable prev="$prev" --variable prevtitle="$(title "$prev")"} \
        ${next:+--variable next="$next" --variable nexttitle="$(title "$next")"} \
        -o "$out/$page.html"
    prev=$page
done

{
    echo "# shm-labs"
    echo
    echo "Shared-memory IPC in C on Linux, one lab at a time. Each handout"
    echo "explains the ideas, the task, the pitfalls, and asks questions."
    echo
    for page in $pages; do
        echo "- [$(title "$page")]($page.html)"
    done
} | pandoc --from gfm --standalone --template="$here/template.html" \
    --metadata pagetitle="Handouts" -o "$out/index.html"
echo "handouts: $out/index.html"
