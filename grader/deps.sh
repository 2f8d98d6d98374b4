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

command -v dpkg-query >/dev/null 2>&1 || exit 0
# One query for all: a package dpkg has never heard of prints nothing.
# shellcheck disable=SC2086  # word splitting of the package list is wanted
have=" $(dpkg-query -W -f='${Package} ${db:Status-Status}\n' $want 2>/dev/null |
        sed -n 's/^\([^ :]*\)[^ ]* installed$/\1/p' | tr '\n' ' ') "
missing=
for p in $want; do
    case $have in *" $p "*) ;; *) missing="$missing $p" ;; esac
done
[ -z "$missing" ] && exit 0

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
