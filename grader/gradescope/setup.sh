#!/bin/sh
# setup.sh - Gradescope runs this once when it builds the autograder image:
# install what grading needs (Gradescope's images are Debian/Ubuntu).
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
    make gcc libc6-dev pkg-config check valgrind tar unzip >/dev/null
make -s -C /autograder/source grader
