#!/bin/sh
# deps.sh - install the Debian packages a make target needs, or say how.
#
# Usage: sh grader/deps.sh grade|test|docker|fresh|gradescope|site
# As root, installs what is missing with apt-get (updating the package lists
# first, as a fresh image needs). Otherwise prints the one command that
# installs them when run as root, and exits 2. On a system without dpkg it
# trusts what is there. Everything it prints goes to stderr, so that make
# can call it from $(shell ...).
set -eu
exec >&2

grade="make gcc libc6-dev pkg-config check valgrind"
case "${1:-grade}" in
    grade) want=$grade ;;
    # clang: the -Werror build under a second compiler; shellcheck: the
    # scripts; patch: applies the known-buggy variants; jq: an independent
    # JSON parser to validate results.json; procps: pgrep finds leftovers.
    # python3-junitparser: a real JUnit parser; perl: prove reads TAP; zip,
    # unzip: the Gradescope package and zipped submissions; pandoc: the
    # handouts site.
    test) want="$grade clang shellcheck patch jq procps python3-junitparser perl zip unzip pandoc" ;;
    docker) want="podman debootstrap" ;;
    fresh) want="debootstrap" ;;
    gradescope) want="zip" ;;
    site) want="pandoc" ;;
    *) echo "usage: sh grader/deps.sh grade|test|docker|fresh|gradescope|site"; exit 2 ;;
esac

q=$(command -v dpkg-query) || exit 0
# Every package was there when this stamp was written, and dpkg has changed
# nothing since: done, without asking dpkg again (it costs a make check
# about 30 ms). The stamp names the dpkg-query it asked; another one on the
# PATH asks again.
case $0 in */*) here=${0%/*} ;; *) here=. ;; esac
stamp=$here/../build/deps.${1:-grade}
# shellcheck disable=SC3013  # -nt: POSIX.1-2024 has it, and so has dash
if [ "$stamp" -nt /var/lib/dpkg/status ] && [ "$stamp" -nt "$0" ] &&
    read -r was <"$stamp" && [ "$was" = "$q" ]; then
    exit 0
fi
# stamp: note that every package is there, in a build/ that make has
# made and that is ours: never make build/ here, so that root installing
# the packages in a user's tree leaves no root-owned build/ behind.
stamp() {
    [ -n "$(find "${stamp%/*}" -prune -user "$(id -u)" 2>/dev/null)" ] || return 0
    printf '%s\n' "$q" >"$stamp" 2>/dev/null || true
}

# One query for all: a package dpkg has never heard of prints nothing.
# shellcheck disable=SC2086  # word splitting of the package list is wanted
have=" $(dpkg-query -W -f='${Package} ${db:Status-Status}\n' $want 2>/dev/null |
        sed -n 's/^\([^ :]*\)[^ ]* installed$/\1/p' | tr '\n' ' ') "
missing=
for p in $want; do
    case $have in *" $p "*) ;; *) missing="$missing $p" ;; esac
done
if [ -z "$missing" ]; then
    stamp
    exit 0
fi

line="apt-get update && apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" -ne 0 ]; then
    echo "shm-labs needs Debian packages that are not installed:$missing"
    echo "As root, run:  $line"
    exit 2
fi
echo "shm-labs: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086  # word splitting of the package list is wanted
apt-get install -y -qq --no-install-recommends $missing >/dev/null
stamp
