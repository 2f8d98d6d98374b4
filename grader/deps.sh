#!/bin/sh
# deps.sh - install the Debian packages a make target needs, or say how.
#
# Usage: sh grader/deps.sh grade|test|docker|gradescope|site
# As root, installs what is missing with apt-get; otherwise prints the exact
# command and fails. On a system without dpkg it trusts what is there.
set -eu

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
    gradescope) want="zip" ;;
    site) want="pandoc" ;;
    *) echo "usage: sh grader/deps.sh grade|test|docker|gradescope|site" >&2; exit 2 ;;
esac

command -v dpkg-query >/dev/null 2>&1 || exit 0
missing=
for p in $want; do
    s=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$s" = installed ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "shm-labs needs these Debian packages:$missing" >&2
    echo "install them with:  sudo apt-get install -y$missing" >&2
    exit 1
fi
echo "shm-labs: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086  # word splitting of the package list is wanted
apt-get install -y -qq --no-install-recommends $missing >/dev/null
