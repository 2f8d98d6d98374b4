#!/bin/sh
# watch.sh - re-run a lab's tests whenever one of its handin files is saved.
#
# Usage: sh grader/watch.sh LAB SRC [ROUNDS]    (make watch LAB=NN)
# Polls the handin files once a second; ROUNDS bounds the number of polls
# (for tests), otherwise it runs until interrupted.
set -u
lab=$1
src=$2
rounds=${3:-0}
files=$(sed -n 's/^handin[[:space:]]*//p' "grader/suites/$lab/manifest")
last=
n=0
while [ "$rounds" -eq 0 ] || [ "$n" -lt "$rounds" ]; do
    # shellcheck disable=SC2086  # $files is a list of names
    now=$(cd "$src/$lab" && stat -c '%n %Y %s' $files 2>&1)
    if [ "$now" != "$last" ]; then
        last=$now
        [ -t 1 ] && clear
        echo "== $(date +%H:%M:%S) make check LAB=$lab"
        make -s --no-print-directory check LAB="$lab" SRC="$src" || true
        echo "== watching $src/$lab ($files); Ctrl-C stops"
    fi
    n=$((n + 1))
    sleep 1
done
