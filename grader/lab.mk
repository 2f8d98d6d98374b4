# lab.mk - the make rules every lab shares; each labs/NN-name/Makefile is
# just "include ../../grader/lab.mk".
#
# Usage (inside labs/NN-name/, or with -f from anywhere):
#   make check [T=test] [SEED=hex]  build, then run this lab's tests (or
#                           one test; SEED: a checker's inputs, as a report gave)
#   make memcheck           build, then the Valgrind pass
#   make [all]              build the test binary and the lab's programs
#   make harness            build only the suite and harness objects
#   make demo D=name        build and run the lab's demo program name.c
#   make clean              remove this lab's build directory
# Variables: LAB (NN-name; default: this directory's name), HANDIN_DIR (where
# the handin files are; default: this lab's directory), OUT (build
# directory; default build/check/LAB under the repository), SAN=1 (build
# with AddressSanitizer and UBSan), CC, SUITE (the test suite's directory;
# the grader points it at an instructor's hidden suite), NODEPS=1 (do not
# check for the Debian packages), PREFIX_MAP (see below), SUITE_BUILT=1
# (see the end).
#
# What a lab consists of comes from grader/suites/LAB/manifest: its handin
# files (the only files ever taken from a submission) and which of them are
# programs with a main(), the lab's demos (trusted teaching programs
# labs/LAB/NAME.c, built alone, never graded) and tools (trusted programs
# labs/LAB/NAME.c linked with the handin code, e.g. a benchmark). The tests are
# grader/suites/LAB/suite.c; headers come from labs/LAB/.

ifneq ($(word 2,$(CURDIR)),)
$(error this directory's path, '$(CURDIR)', contains a space, which GNU Make \
cannot handle; move or rename the checkout (no spaces) and run make again)
endif
ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))..)

# Packages before anything is built (see the top-level Makefile); the
# grader, which has checked them already, passes NODEPS=1.
ifeq ($(NODEPS)$(filter clean,$(MAKECMDGOALS)),)
ifneq ($(shell sh $(ROOT)/grader/deps.sh grade && echo ok),ok)
$(error missing packages: see above)
endif
endif
LAB ?= $(notdir $(CURDIR))
LABDIR := $(ROOT)/labs/$(LAB)
SUITE ?= $(ROOT)/grader/suites/$(LAB)
MANIFEST := $(ROOT)/grader/suites/$(LAB)/manifest
HANDIN_DIR ?= $(LABDIR)
OUT ?= $(ROOT)/build/check$(if $(SAN),-san)/$(notdir $(patsubst %/,%,$(dir $(HANDIN_DIR))))/$(LAB)
GRADE := $(ROOT)/build/grader/grade

ifeq ($(wildcard $(MANIFEST)),)
$(error lab '$(LAB)' has no $(MANIFEST))
endif

# The manifest read once, without a shell: each line one word, its blanks
# turned into ~ (a manifest value holds no ~); manifest KEY gives the value.
MF_EMPTY :=
MF_SP := $(MF_EMPTY) $(MF_EMPTY)
MF_TAB := $(MF_EMPTY)	$(MF_EMPTY)
define MF_NL


endef
MF_WORDS := $(subst $(MF_NL), ,$(subst $(MF_TAB),~,$(subst $(MF_SP),~,$(file <$(MANIFEST)))))
manifest = $(strip $(subst ~, ,$(patsubst $(1)~%,%,$(filter $(1)~%,$(MF_WORDS)))))
HANDIN := $(call manifest,handin)
PROGRAMS := $(call manifest,programs)
DEMOS := $(call manifest,demos)
TOOLS := $(call manifest,tools)
LIBSRC := $(filter-out $(PROGRAMS:%=%.c),$(filter %.c,$(HANDIN)))

CC ?= cc
CFLAGS := -std=c11 -Wall -Wextra -Werror -O2 -g
CPPFLAGS := -I$(LABDIR) -I$(ROOT)/grader/harness -MMD -MP
# PREFIX_MAP="FROM=TO ...": debug paths to rewrite (the grader builds in a
# view at /shm-labs; for make check it maps that back, so gdb finds the files).
CFLAGS += $(PREFIX_MAP:%=-fdebug-prefix-map=%)
ifdef SAN
CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=all \
          -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
endif
# (Expanded only when a recipe needs them: an up-to-date build runs no shell.)
CHECK_CFLAGS = $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS = $(shell pkg-config --libs check 2>/dev/null || echo -lcheck)
HX_DEF := -DHX_LAB='"$(LAB)"'

LIBOBJ := $(LIBSRC:%.c=$(OUT)/u/%.o)
TESTOBJ := $(OUT)/s/suite.o $(OUT)/h/hx.o $(OUT)/h/probe.o

.PHONY: all harness demos demo tools check memcheck clean

# Every lab is checked from outside: its test program is a checker (the
# suite, the harness and grader/checker/, no handin code: built whole by
# make harness), and the handin code runs only in ./subject
# (grader/subject/LAB.c, sx.c and the handin files), which the checker
# drives. No rule here links handin code into the test program.
ifeq ($(wildcard $(ROOT)/grader/subject/$(LAB).c),)
$(error lab '$(LAB)' has no grader/subject/$(LAB).c: every lab's handin code \
runs in a subject that its checker drives (README: Adding a lab))
endif
CPPFLAGS += -I$(ROOT)/grader/checker -I$(ROOT)/grader/suites/$(LAB)
TESTOBJ += $(OUT)/c/cx.o $(OUT)/c/hold.o $(OUT)/c/look.o
SUBJOBJ := $(OUT)/x/sx.o $(OUT)/x/lab.o $(OUT)/x/fork.o
all: $(OUT)/test $(OUT)/subject $(PROGRAMS:%=$(OUT)/%)
harness: $(OUT)/test

$(OUT)/test: $(TESTOBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS)

$(OUT)/subject: $(SUBJOBJ) $(LIBOBJ)
	$(CC) $(LDFLAGS) -Wl,--wrap=fork -o $@ $^ -pthread -lm

$(OUT)/c/%.o: $(ROOT)/grader/checker/%.c | $(OUT)/c
	$(CC) $(CPPFLAGS) $(HX_DEF) $(CHECK_CFLAGS) $(CFLAGS) -c -o $@ $<

$(OUT)/x/sx.o: $(ROOT)/grader/subject/sx.c | $(OUT)/x
	$(CC) $(CPPFLAGS) -I$(ROOT)/grader/subject $(CFLAGS) -c -o $@ $<

$(OUT)/x/fork.o: $(ROOT)/grader/subject/fork.c | $(OUT)/x
	$(CC) $(CPPFLAGS) -I$(ROOT)/grader/subject $(CFLAGS) -c -o $@ $<

$(OUT)/x/lab.o: $(ROOT)/grader/subject/$(LAB).c | $(OUT)/x
	$(CC) $(CPPFLAGS) -I$(ROOT)/grader/subject $(CFLAGS) -c -o $@ $<

$(PROGRAMS:%=$(OUT)/%): $(OUT)/%: $(OUT)/u/%.o $(LIBOBJ) $(OUT)/x/fork.o
	$(CC) $(LDFLAGS) -Wl,--wrap=fork -o $@ $^ -pthread -lm

$(OUT)/u/%.o: $(HANDIN_DIR)/%.c | $(OUT)/u
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(OUT)/s/%.o: $(SUITE)/%.c | $(OUT)/s
	$(CC) $(CPPFLAGS) $(HX_DEF) $(CHECK_CFLAGS) $(CFLAGS) -c -o $@ $<

$(OUT)/h/%.o: $(ROOT)/grader/harness/%.c | $(OUT)/h
	$(CC) $(CPPFLAGS) $(HX_DEF) $(CHECK_CFLAGS) $(CFLAGS) -c -o $@ $<

tools: $(TOOLS:%=$(OUT)/tool/%)

$(OUT)/tool/%: $(LABDIR)/%.c $(LIBOBJ) | $(OUT)/tool
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBOBJ) -pthread -lm

demos: $(DEMOS:%=$(OUT)/demo/%)

$(OUT)/demo/%: $(LABDIR)/%.c | $(OUT)/demo
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< -pthread -lm

demo: $(OUT)/demo/$(D)
	@echo '$$ timeout 10 ./$(D)'
	@timeout 10 $< || echo "($(D) ended with status $$?: 124 is the 10 s timeout)"

$(OUT)/u $(OUT)/s $(OUT)/h $(OUT)/c $(OUT)/x $(OUT)/demo $(OUT)/tool:
	mkdir -p $@

check memcheck:
	@$(MAKE) -s --no-print-directory -C $(ROOT) NODEPS=1 grader
	@$(GRADE) --$@ --lab $(LAB) --handin $(HANDIN_DIR) $(if $(T),--only $(T)) \
	  $(if $(SEED),--seed $(SEED))

clean:
	rm -rf $(OUT)

# SUITE_BUILT=1: the suite's object is built (the grader compiles a hidden
# suite with make harness alone, then links it in a view without its
# source), so neither it nor its dependency file is looked at again.
ifdef SUITE_BUILT
$(OUT)/s/suite.o: ;
endif
-include $(filter-out $(if $(SUITE_BUILT),$(OUT)/s/suite.d),$(wildcard $(OUT)/*/*.d))
