#!/bin/sh
# reset.sh - put a lab's handin files back as shipped, keeping a backup.
#
# Usage: sh grader/reset.sh LAB [REV]     (make reset LAB=NN [FROM=rev])
# The skeleton comes from git (REV, default HEAD) or, in a student release
# without git, from grader/skeleton/LAB. The current files are copied to
# build/backup/LAB-DATE first.
set -eu
lab=$1
rev=${2:-HEAD}
files=$(sed -n 's/^handin[[:space:]]*//p' "grader/suites/$lab/manifest")
backup=build/backup/$lab-$(date +%Y%m%d-%H%M%S)
mkdir -p "$backup"
for f in $files; do
    [ -f "labs/$lab/$f" ] && cp -p "labs/$lab/$f" "$backup/"
done
for f in $files; do
    if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git show "$rev:labs/$lab/$f" >"labs/$lab/$f.new"
    else
        cp "grader/skeleton/$lab/$f" "labs/$lab/$f.new"
    fi
    mv "labs/$lab/$f.new" "labs/$lab/$f"
done
echo "labs/$lab: $files restored; your previous version is in $backup/"
