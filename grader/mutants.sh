#!/bin/sh
# mutants.sh - how many realistic bugs a lab's tests catch (make mutants).
#
# Usage: sh grader/mutants.sh LAB [JOBS]      (LAB: 01 or 01-mmap)
# Makes every mutant of the lab's reference solution (grader/mutate.awk:
# one small change each, a bug students make), grades each one as a
# submission (grade --batch: isolated, JOBS at a time, default 2), and
# prints the mutants that kept full marks, with their diffs, and the
# mutation score: killed / (killed + survived). A mutant that does not
# compile (-Werror) is stillborn and not counted; one that compiles to the
# same object code as the solution, or is listed in
# grader/selftest/LAB/equivalent with the reason no test can kill it, is
# equivalent and not graded. The tests run first without the
# Valgrind pass; what survives them is graded again with it.
# Everything is in build/mutants/LAB/ (index: one line per mutant;
# verdicts: the same with each one's verdict). Exits 0 if every mutant
# was judged, whatever the score; 1 if some survived and MUTANTS_STRICT=1;
# 2 if the grader failed. MUTANTS_GRADE: the grader to use.
set -u
cd "$(dirname "$0")/.." || exit 2
root=$(pwd)
want=${1:-}
jobs=${2:-2}
lab=
for d in grader/suites/[0-9][0-9]-*; do
    case ${d##*/} in "$want"*) [ -n "$want" ] && lab=${d##*/} ;; esac
done
[ -n "$lab" ] || { echo "mutants: no lab matches '$want' (make mutants LAB=01)" >&2; exit 2; }
G=${MUTANTS_GRADE:-$root/build/grader/grade}
w=$root/build/mutants/$lab
equiv=grader/selftest/$lab/equivalent
rm -rf "$w"
mkdir -p "$w/subs" || exit 2

# The mutants, each a directory mNNNN/ holding the one file it changes.
n=1
: >"$w/index"
for f in solutions/"$lab"/*.c; do
    awk -f grader/mutate.awk -v name="${f##*/}" -v out="$w/gen" -v first="$n" "$f" \
        >>"$w/index" || exit 2
    n=$(($(wc -l <"$w/index") + 1))
done

# Listed equivalents are set aside; every other mutant becomes a
# submission laid out like labs/ (the solution with the one file changed).
# m0000, the solution itself, is the control: it must keep full marks.
# An equivalent line: file, function, before, after, k (as in the index)
# and the reason, tab-separated.
awk -F '\t' -v list="$equiv" '
    BEGIN { while ((getline l < list) > 0)
                if (l !~ /^#/ && split(l, f, "\t") >= 6 && f[6] != "")
                    eq[f[1] "\t" f[2] "\t" f[3] "\t" f[4] "\t" f[5]] = 1 }
    { split($2, at, ":")
      print $1 "\t" ((at[1] "\t" $6 "\t" $4 "\t" $5 "\t" $7) in eq ? "equivalent" : "graded") }
' "$w/index" >"$w/fate"

# same_code ID FILE: the mutant compiles to the very object the solution
# does (without debug information, at the labs' -O2): no test can tell
# them apart (a memory order that x86-64 does not need, say).
compile() {
    ${CC:-cc} -std=c11 -O2 -I"$root/labs/$lab" -c "$@"
}
same_code() {
    [ -e "$w/tce/$2.o" ] || (cd "solutions/$lab" && compile -o "$w/tce/$2.o" "$2") ||
        return 1
    (cd "$w/gen/$1" && compile -o "$w/tce/$1.o" "$2" 2>/dev/null) &&
        cmp -s "$w/tce/$2.o" "$w/tce/$1.o"
}
mkdir -p "$w/tce" || exit 2
while IFS="$(printf '\t')" read -r id at _; do
    if same_code "$id" "${at%%:*}"; then echo "$id"; fi
done <"$w/index" >"$w/same-code"
awk -F '\t' -v same="$w/same-code" '
    BEGIN { while ((getline l < same) > 0) s[l] = 1 }
    { print $1 "\t" ($1 in s && $2 == "graded" ? "same-code" : $2) }
' "$w/fate" >"$w/fate.new" && mv "$w/fate.new" "$w/fate" || exit 2

mkdir -p "$w/subs/m0000/$lab" && cp solutions/"$lab"/* "$w/subs/m0000/$lab/" || exit 2
while IFS="$(printf '\t')" read -r id fate; do
    [ "$fate" = graded ] || continue
    mkdir -p "$w/subs/$id/$lab" && cp solutions/"$lab"/* "$w/subs/$id/$lab/" &&
        cp "$w/gen/$id"/* "$w/subs/$id/$lab/" || exit 2
done <"$w/fate"

# grade_all PASS [OPTION...]: grade build/mutants/LAB/subs-PASS.
grade_all() {
    pass=$1
    shift
    "$G" --batch "$w/subs-$pass" --lab "$lab" --jobs "$jobs" --out "$w/out-$pass" \
        --gradebook "$w/grades-$pass.csv" "$@" >"$w/batch-$pass.log" 2>&1 || {
        echo "mutants: the grader failed; see $w/batch-$pass.log" >&2
        exit 2
    }
}

# verdicts PASS: "id state score max" for each mutant graded in PASS.
verdicts() {
    for s in "$w/out-$1"/m*/summary.tsv; do
        id=${s%/summary.tsv}
        awk -v id="${id##*/}" -v lab="$lab" '$1 == lab { print id, $4, $2, $3 }' "$s"
    done
}

# The tests alone first (most mutants die there), then the Valgrind pass
# for the survivors.
mv "$w/subs" "$w/subs-tests"
t0=$(date +%s)
grade_all tests --no-memcheck --first-fail
verdicts tests >"$w/verdicts-tests"
ctl=$(awk '$1 == "m0000" && $2 == "ran" { print $3 }' "$w/verdicts-tests")
[ -n "$ctl" ] || { echo "mutants: the solution did not grade; see $w/out-tests/m0000" >&2; exit 2; }
mkdir -p "$w/subs-memcheck"
awk -v c="$ctl" '$2 == "ran" && $3 >= c { print $1 }' "$w/verdicts-tests" |
    while read -r id; do mv "$w/subs-tests/$id" "$w/subs-memcheck/"; done
grade_all memcheck
verdicts memcheck >"$w/verdicts-memcheck"
full=$(awk '$1 == "m0000" && $2 == "ran" && $3 == $4 { print $3 }' "$w/verdicts-memcheck")
[ -n "$full" ] || { echo "mutants: the solution lost points; see $w/out-memcheck/m0000" >&2; exit 2; }

# One verdict per mutant: stillborn, killed (by the tests or the Valgrind
# pass), survived, equivalent (listed), or error (the grader's trouble).
awk -F '\t' -v c="$ctl" -v full="$full" -v vt="$w/verdicts-tests" -v vm="$w/verdicts-memcheck" '
    BEGIN {
        while ((getline l < vt) > 0) {
            split(l, f, " ")
            if (f[2] == "build") v[f[1]] = "stillborn"
            else if (f[2] == "grader") v[f[1]] = "error"
            else if (f[3] + 0 < c + 0) v[f[1]] = "killed"
            else v[f[1]] = "?"
        }
        while ((getline l < vm) > 0) {
            split(l, f, " ")
            if (v[f[1]] != "?") continue
            if (f[2] == "grader" || f[2] == "build") v[f[1]] = "error"
            else if (f[3] + 0 < full + 0) v[f[1]] = "killed-valgrind"
            else v[f[1]] = "survived"
        }
    }
    FILENAME ~ /fate$/ { fate[$1] = $2; next }
    { print $0 "\t" (fate[$1] != "graded" ? fate[$1] : ($1 in v) ? v[$1] : "error") }
' "$w/fate" "$w/index" >"$w/verdicts"
secs=$(($(date +%s) - t0))

# Survivors, with their diffs; then the score.
awk -F '\t' '$8 == "survived"' "$w/verdicts" | while IFS="$(printf '\t')" read -r id at op _; do
    f=${at%%:*}
    echo "survived  $id  $at  ($op)"
    diff -u "solutions/$lab/$f" "$w/gen/$id/$f" | sed -e '1,2d' -e 's/^/    /'
done
awk -F '\t' -v lab="$lab" -v secs="$secs" -v jobs="$jobs" '
    { n[$8]++; all++ }
    END {
        k = n["killed"] + n["killed-valgrind"]; s = n["survived"]
        printf "%s: %d mutants: %d killed (%d by the Valgrind pass), %d survived, %d equivalent (%d listed, %d the same machine code), %d stillborn, %d not judged\n",
               lab, all, k, n["killed-valgrind"], s, n["equivalent"] + n["same-code"],
               n["equivalent"], n["same-code"], n["stillborn"], n["error"]
        printf "%s: mutation score %d/%d = %.1f%% (%d s at JOBS=%d)\n", lab, k, k + s,
               k + s ? 100 * k / (k + s) : 100, secs, jobs
        exit n["error"] ? 2 : s && ENVIRON["MUTANTS_STRICT"] == "1" ? 1 : 0
    }' "$w/verdicts"
