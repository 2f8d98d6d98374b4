# Makefile - shm-labs: every command a student or instructor needs.
# Run "make help" for the list.

ROOT := $(CURDIR)
.NOTPARALLEL:   # in order: packages, then the grader, then what uses it

# GNU Make cannot cope with a space in a file name: say so before anything runs.
ifneq ($(word 2,$(CURDIR)),)
$(error this checkout's path, '$(CURDIR)', contains a space, which GNU Make \
cannot handle; move or rename the directory (no spaces) and run make again)
endif

# Packages before anything is built: as root they are installed; otherwise
# grader/deps.sh prints the one command that installs them and make stops
# here, never with a raw compiler error.
NEEDS_GRADE := grade grade-all check memcheck demo status hint watch bench grader mutants
deps_kind := $(if $(NODEPS),,$(if $(filter test,$(MAKECMDGOALS)),$(if \
	$(wildcard grader/selftest),test,grade),$(if $(filter $(NEEDS_GRADE),$(MAKECMDGOALS)),grade)))
ifneq ($(deps_kind),)
ifneq ($(shell sh grader/deps.sh $(deps_kind) && echo ok),ok)
$(error missing packages: see above)
endif
endif
SRC ?= labs
CC ?= cc
GRADE := build/grader/grade
LABS := $(notdir $(wildcard grader/suites/[0-9][0-9]-*))
# LAB=01 or LAB=01-mmap -> 01-mmap
lab = $(or $(filter $(LAB)%,$(LABS)),$(error no lab matches LAB='$(LAB)'; labs: $(LABS)))

GRADER_SRC := $(wildcard grader/src/*.c)
GRADER_OBJ := $(GRADER_SRC:grader/src/%.c=build/grader/%.o)
GRADER_CFLAGS := -std=c11 -Wall -Wextra -Werror -O2 -g -MMD -MP $(GRADER_SAN)

.PHONY: help grade grade-all gradescope docker shell docker-test check \
	status hint watch reset dist handouts memcheck demo bench test deps grader clean \
	mutants \
	fresh-test
help:
	@echo 'Students:'
	@echo '  make check LAB=01 [T=test]   build and run one lab'"'"'s tests (fast; SEED=hex as a report says)'
	@echo '  make memcheck LAB=01         the Valgrind pass of one lab'
	@echo '  make demo LAB=03 D=name      build and run one of a lab'"'"'s demo programs'
	@echo '  make handouts                the handouts as a site: build/site/index.html'
	@echo '  make grade                   grade every lab in labs/, with a table'
	@echo '  make watch LAB=01            rerun the tests whenever a handin file is saved'
	@echo '  make hint LAB=01             the next hint for the first failing test'
	@echo '  make status                  each lab'"'"'s points from its last make check'
	@echo '  make reset LAB=01            restore the skeleton (a backup is kept)'
	@echo '  make bench [SRC=labs]        lab 06: pipe vs shared memory (solutions by default)'
	@echo '                               BENCH_CSV=FILE also writes the figures as CSV'
	@echo '  make docker, make shell      build the container; a shell in it on this tree'
	@echo 'Instructors:'
	@echo '  make grade SRC=DIR           grade a submission laid out like labs/'
	@echo '  make grade SRC=solutions     grade the reference solutions (full marks)'
	@echo '  make grade RESULTS=FILE      also write Gradescope results.json'
	@echo '  make grade LAB=01            grade one lab only'
	@echo '  make grade JUNIT=F TAP=F     also write JUnit XML and TAP reports'
	@echo '  make grade-all SUBMISSIONS=DIR [JOBS=2] [GRADEBOOK=FILE]'
	@echo '                               grade a class: each subdirectory, .tar.gz or .zip'
	@echo '  make grade HIDDEN=DIR        add instructor-only suites DIR/NN-name/'
	@echo '  make grade[-all] STRICT=1    refuse to grade where any isolation is missing'
	@echo '  make gradescope [HIDDEN=DIR] build/gradescope/autograder.zip for Gradescope'
	@echo '  make mutants [LAB=01] [JOBS=2]  how many small bugs in the solution the tests catch'
	@echo 'Project:'
	@echo '  make test [LAB=01]           the project'"'"'s own test suite (CI runs it)'
	@echo '  make docker-test             build the container for real, make test inside'
	@echo '  make fresh-test [AT=DIR] [FRESH_USER=NAME]  .ci/run on a pristine Debian root'
	@echo '  make dist                    the student release (no solutions): build/dist/'
	@echo '  make deps                    install the Debian packages (as root)'
	@echo '  make clean                   remove build/'
	@echo 'Variables: CK_TIMEOUT_MULTIPLIER=N scales every time limit.'

grader: $(GRADE)

$(GRADE): $(GRADER_OBJ)
	$(CC) $(GRADER_SAN) -o $@ $^

build/grader/%.o: grader/src/%.c | build/grader
	$(CC) $(GRADER_CFLAGS) -c -o $@ $<

build/grader:
	mkdir -p $@

deps:
	@sh grader/deps.sh grade

grade: grader
	@$(GRADE) --src $(SRC) $(if $(LAB),--lab $(lab)) \
	  $(if $(RESULTS),--results $(RESULTS)) $(if $(JUNIT),--junit $(JUNIT)) \
	  $(if $(TAP),--tap $(TAP)) $(if $(HIDDEN),--hidden $(HIDDEN)) \
	  $(if $(STRICT),--strict) $(if $(SEED),--seed $(SEED))

# A whole class: every subdirectory or archive of SUBMISSIONS.
JOBS ?= 2
BATCH_OUT ?= build/batch
GRADEBOOK ?= $(BATCH_OUT)/gradebook.csv
grade-all: grader
	@test -n '$(SUBMISSIONS)' || { echo 'usage: make grade-all SUBMISSIONS=DIR [JOBS=N] [GRADEBOOK=FILE]'; exit 2; }
	@$(GRADE) --batch $(SUBMISSIONS) --jobs $(JOBS) --out $(BATCH_OUT) \
	  --gradebook $(GRADEBOOK) $(if $(HIDDEN),--hidden $(HIDDEN)) \
	  $(if $(STRICT),--strict)

# Mutation testing: each lab's solution with one small bug at a time, each
# graded; the bugs that keep full marks, and the score (grader/mutants.sh).
mutants: grader
	@for l in $(if $(LAB),$(lab),$(LABS)); do \
	  sh grader/mutants.sh $$l $(JOBS) || exit $$?; done

check memcheck demo: grader
	@$(MAKE) -s --no-print-directory -f grader/lab.mk NODEPS=1 LAB=$(lab) \
	  HANDIN_DIR=$(abspath $(SRC))/$(lab) $@ $(if $(T),T=$(T)) $(if $(D),D=$(D)) \
	  $(if $(SEED),SEED=$(SEED))

# A student's daily loop.
status: grader
	@$(GRADE) --status --src $(SRC)

hint: grader
	@$(GRADE) --hint --lab $(lab) --src $(SRC)

watch: grader
	@sh grader/watch.sh $(lab) $(SRC)

reset:
	@sh grader/reset.sh $(lab) $(FROM)

# The student release: no solutions, no self-test (its patches show
# solution code), with a copy of each skeleton for make reset. In a git work
# tree, labs/ and the skeleton come from HEAD, so uncommitted edits under
# labs/ never ship; in a release (no git), from labs/ and grader/skeleton/.
DIST := build/dist/shm-labs
dist:
	rm -rf build/dist && mkdir -p $(DIST)/labs $(DIST)/grader/skeleton
	cp -R Makefile README.md handouts docker $(DIST)/
	cp -R grader/harness grader/checker grader/subject grader/src grader/suites \
	  grader/gradescope \
	  grader/lab.mk grader/deps.sh grader/watch.sh grader/reset.sh $(DIST)/grader/
	@if git rev-parse -q --verify HEAD:./labs >/dev/null 2>&1; then \
	  echo "git archive HEAD:./labs | tar -x -C $(DIST)/labs"; \
	  git archive HEAD:./labs | tar -x -C $(DIST)/labs && \
	  cp -R $(DIST)/labs/. $(DIST)/grader/skeleton/; \
	else echo "cp -R labs/. $(DIST)/labs/"; cp -R labs/. $(DIST)/labs/ && \
	  cp -R $(if $(wildcard grader/skeleton),grader/skeleton,labs)/. $(DIST)/grader/skeleton/; fi
	tar -czf build/dist/shm-labs.tar.gz -C build/dist shm-labs
	@echo "student release: build/dist/shm-labs.tar.gz"

# The handouts as an HTML site (pandoc).
handouts:
	@sh grader/deps.sh site
	@sh handouts/site/build.sh build/site

# The Lab 06 benchmark: pipe vs shared-memory channel vs memcpy.
BENCH_SRC := $(if $(filter command line environment,$(origin SRC)),$(SRC),solutions)
BENCH_OUT := build/bench/$(BENCH_SRC)
bench:
	@$(MAKE) -s --no-print-directory -f grader/lab.mk NODEPS=1 LAB=06-pipes \
	  HANDIN_DIR=$(ROOT)/$(BENCH_SRC)/06-pipes OUT=$(ROOT)/$(BENCH_OUT) tools
	@$(BENCH_OUT)/tool/bench -s build/bench/throughput.svg \
	  $(if $(BENCH_CSV),-c $(BENCH_CSV))
	@echo "plot: build/bench/throughput.svg"

# Gradescope's autograder zip: the trusted tree without the solutions or
# the self-test (its patches show solution code), plus HIDDEN suites.
GS := build/gradescope
gradescope:
	@sh grader/deps.sh gradescope
	rm -rf $(GS) && mkdir -p $(GS)/tree
	cp -R Makefile labs grader $(GS)/tree/
	rm -rf $(GS)/tree/grader/selftest
	$(if $(HIDDEN),cp -R $(HIDDEN) $(GS)/tree/hidden)
	cp grader/gradescope/setup.sh grader/gradescope/run_autograder $(GS)/tree/
	cd $(GS)/tree && zip -qr ../autograder.zip .
	@echo "Gradescope autograder: $(GS)/autograder.zip"

# The self-study container (docker/Dockerfile), built from the student
# release: no solutions, no self-test, a skeleton for make reset. make shell
# mounts this tree at /labs, as the host user, so its files stay the user's.
IMAGE ?= shm-labs
docker: dist
	@if docker info >/dev/null 2>&1; then \
	  docker build -f $(DIST)/docker/Dockerfile -t $(IMAGE) $(DIST); \
	else sh grader/deps.sh docker && \
	  podman build --isolation chroot -f $(DIST)/docker/Dockerfile -t $(IMAGE) $(DIST); fi

shell:
	@if docker info >/dev/null 2>&1; then \
	  docker run --rm -it --shm-size=256m --user "$$(id -u):$$(id -g)" \
	    -v "$(CURDIR)":/labs -w /labs $(IMAGE); \
	else podman run --rm -it --shm-size=256m --userns=keep-id \
	  -v "$(CURDIR)":/labs -w /labs $(IMAGE); fi

docker-test:
	@IMAGE=$(IMAGE) sh docker/test

# CI's command on a pristine Debian root: the fresh-machine promise, tested.
fresh-test:
	@sh docker/fresh $(if $(AT),--at '$(AT)') $(if $(FRESH_USER),--user '$(FRESH_USER)')

test: grader
	@if [ ! -d grader/selftest ]; then \
	  echo "make test: the project's own tests are not in the student release"; \
	  exit 0; fi; \
	LAB='$(LAB)' sh grader/selftest/run

clean:
	rm -rf build

-include $(wildcard build/grader/*.d)
