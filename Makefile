# SPDX-License-Identifier: MIT
# fallacy — network fault injection. Build in the libbpf-tools style:
# BPF objects -> skeletons -> userspace; every output under $(OUTPUT).

OUTPUT ?= .output
CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool
PREFIX ?= /usr/local
DESTDIR ?=
ARCH := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')

# The release, and `git describe` of the checkout (or the .version file a
# source copy carries: make deb) for `fallacy --version`.
VERSION := 0.1.0
GIT_DESCRIBE := $(shell cat .version 2>/dev/null || git describe --tags --always --dirty 2>/dev/null)

PKGS := libbpf libnl-3.0 libnl-route-3.0 libpcap libfyaml libnetfilter_queue libmnl
TEST_PKGS := cmocka

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

EXTRA_CFLAGS ?=
EXTRA_LDFLAGS ?=
CFLAGS := -g -O2 -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -MMD -MP \
	$(PKG_CFLAGS) $(EXTRA_CFLAGS)
# The rule of the house, enforced by the compiler: the injector never sees
# harness/, and harness/ sees only the injector's public headers (copied to
# $(OUTPUT)/api, so including anything else fails to compile). Unit tests
# may look inside both.
INJECTOR_INC := -Iinclude -Iinjector -I$(OUTPUT)
HARNESS_INC := -Iinclude -I$(OUTPUT)/api -Iharness
TEST_INC := -Iinclude -Iinjector -Iharness -I$(OUTPUT)
# One public header per part of the injector, plus the base helpers.
PUBLIC_HDRS := log.h parse.h json.h clock.h lab/lab.h faults/fault.h dataplane/dataplane.h \
	delay/delay.h shape/shape.h capture/capture.h state/state.h supervisor/session.h \
	probe/probe.h stats/stats.h inject/inject.h admin/admin.h
API_HDRS := $(addprefix $(OUTPUT)/api/,$(PUBLIC_HDRS))
LDLIBS := $(PKG_LIBS) -lelf -lz -lm -lpthread
LDFLAGS := $(EXTRA_LDFLAGS)

BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Iinclude -Ibpf \
	-idirafter /usr/include/$(shell uname -m)-linux-gnu -Wall -Werror

BPF_SRCS := $(wildcard bpf/*.bpf.c)
SKELS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.skel.h,$(BPF_SRCS))
LIB_SRCS := $(wildcard injector/*.c injector/*/*.c) $(filter-out harness/main.c,$(wildcard harness/*.c))
LIB_OBJS := $(patsubst %.c,$(OUTPUT)/%.o,$(LIB_SRCS))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(UNIT_SRCS))

# `make V=1` prints whole command lines; by default one line per output.
ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
# keep intermediates (BPF objects, test objects) so nothing rebuilds twice
.SECONDARY:
.PHONY: all deps check check-unit check-integration check-soak check-scenarios check-asan check-analyze bench demo install \
	uninstall clean vmlinux unit-bins format fuzz fuzz-bins man completion deb deps-browser

all: $(OUTPUT)/fallacy

$(OUTPUT) $(OUTPUT)/bpf:
	@mkdir -p $@

# --- BPF -------------------------------------------------------------------
$(OUTPUT)/bpf/%.bpf.o: bpf/%.bpf.c bpf/vmlinux.h $(wildcard include/fallacy/*.h) | $(OUTPUT)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUTPUT)/%.skel.h: $(OUTPUT)/bpf/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@

vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > bpf/vmlinux.h

# Kernel style (.clang-format); `make check` fails on unformatted C.
format:
	find bpf harness include injector tests -name '*.[ch]' ! -name vmlinux.h \
		-exec clang-format -i {} +

# --- userspace -------------------------------------------------------------
$(OUTPUT)/api/%.h: injector/%.h
	@mkdir -p $(@D)
	$(Q)cp $< $@

$(OUTPUT)/injector/%.o: injector/%.c | $(SKELS)
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(INJECTOR_INC) -c $< -o $@

# only version.o is rebuilt when the describe changes
VERSION_STAMP := $(OUTPUT)/version.stamp
$(shell mkdir -p $(OUTPUT) && printf '%s %s\n' '$(VERSION)' '$(GIT_DESCRIBE)' | \
	cmp -s - $(VERSION_STAMP) || printf '%s %s\n' '$(VERSION)' '$(GIT_DESCRIBE)' >$(VERSION_STAMP))
$(OUTPUT)/harness/version.o: $(VERSION_STAMP)
$(OUTPUT)/harness/version.o: CFLAGS += -DFALLACY_VERSION='"$(VERSION)"' \
	$(if $(GIT_DESCRIBE),-DFALLACY_GIT='"$(GIT_DESCRIBE)"')

# named scenarios: where `make install` puts them
$(OUTPUT)/harness/find.o: CFLAGS += -DFALLACY_DATADIR='"$(PREFIX)/share/fallacy"'

$(OUTPUT)/harness/%.o: harness/%.c $(API_HDRS)
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(HARNESS_INC) -c $< -o $@

$(OUTPUT)/tests/%.o: tests/%.c | $(SKELS)
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(TEST_INC) -c $< -o $@

$(OUTPUT)/libfallacy.a: $(LIB_OBJS)
	@rm -f $@
	$(call msg,AR,$@)
	$(Q)$(AR) rcs $@ $^

$(OUTPUT)/fallacy: $(OUTPUT)/harness/main.o $(OUTPUT)/libfallacy.a
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(OUTPUT)/tests/%: $(OUTPUT)/tests/unit/%.o $(OUTPUT)/libfallacy.a
	@mkdir -p $(@D)
	$(call msg,TEST,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) $(shell pkg-config --libs $(TEST_PKGS)) -o $@

unit-bins: $(UNIT_BINS)

# --- fuzzing: libFuzzer targets for every parser (clang) ------------------
# The library is rebuilt with clang, coverage instrumentation, ASan and
# UBSan into $(FUZZ_OUT); tests/fuzz/run.sh runs each target FUZZ_SECONDS
# on its corpus (tests/fuzz/corpus/NAME: seeds and regressions) plus seeds
# taken from scenarios/, tests/ and docs/.
FUZZ_OUT := .output-fuzz
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(FUZZ_OUT)/fuzz/%,$(FUZZ_SRCS))
FUZZ_SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
FUZZ_SECONDS ?= 60

fuzz-bins:
	@$(MAKE) --no-print-directory OUTPUT=$(FUZZ_OUT) CC=clang \
		EXTRA_CFLAGS="-fsanitize=fuzzer-no-link $(FUZZ_SAN)" $(FUZZ_OUT)/libfallacy.a
	@$(MAKE) --no-print-directory $(FUZZ_BINS)

$(FUZZ_OUT)/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz.h $(FUZZ_OUT)/libfallacy.a
	@mkdir -p $(@D)
	$(call msg,FUZZ,$@)
	$(Q)clang -g -O1 -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -Iinclude -Iinjector \
		-Iharness $(PKG_CFLAGS) -fsanitize=fuzzer $(FUZZ_SAN) $< $(FUZZ_OUT)/libfallacy.a \
		$(LDLIBS) -o $@

fuzz: deps fuzz-bins
	@./tests/fuzz/run.sh $(FUZZ_SECONDS)

# --- dependencies (idempotent; apt-get update only when a package is missing)
DEB_BUILD := make gcc clang llvm clang-format pkg-config libbpf-dev bpftool libelf-dev zlib1g-dev \
	libnl-3-dev libnl-route-3-dev libpcap-dev libfyaml-dev libnetfilter-queue-dev libmnl-dev
DEB_TEST := libcmocka-dev libclang-rt-14-dev bats bats-support bats-assert bats-file iproute2 iputils-ping \
	iptables iperf3 socat tcpdump tshark libxml2-utils jq python3 procps psmisc curl \
	shellcheck ethtool python3-pytest python3-venv python3-yaml zsh groff-base man-db valgrind \
	openssh-client openssh-server yamllint
# the Debian package (make deb) and its install test
DEB_PKG := debhelper dpkg-dev fakeroot
# only for the report's browser test (tests/integration/report.bats runs
# `make deps-browser` when chromium is missing)
DEB_BROWSER := chromium
DEB_DEMO := etcd-server etcd-client redis-server redis-tools openssl redis-sentinel \
	postgresql-15 postgresql-client-15
deps:
	@./tests/deps.sh $(DEB_BUILD) $(DEB_TEST) $(DEB_DEMO) $(DEB_PKG)

deps-browser:
	@./tests/deps.sh $(DEB_BROWSER)

# --- tests -----------------------------------------------------------------
ASAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

# the three builds of `make check` use every core (-j$(BUILD_JOBS))
BUILD_JOBS ?= $(shell nproc 2>/dev/null || echo 2)

check: deps
	@$(MAKE) --no-print-directory -j$(BUILD_JOBS) all unit-bins fuzz-bins
	@$(MAKE) --no-print-directory -j$(BUILD_JOBS) OUTPUT=.output-asan EXTRA_CFLAGS="$(ASAN_FLAGS)" \
		EXTRA_LDFLAGS="-fsanitize=address,undefined" unit-bins
	@./tests/run.sh --unit --unit-asan .output-asan --integration --fuzz 10

check-unit: all unit-bins
	@./tests/run.sh --unit

check-integration: all
	@./tests/run.sh --integration

# check-integration SOAK_RUNS times (default 5) with SOAK_BUSY cores (default
# 1) kept busy by a background loop; fails if any run fails (tests/soak.sh)
check-soak: all
	@./tests/soak.sh

# every shipped fallacy scenario against 3- and 5-node etcd, redis-sentinel
# and http at a quarter of its time (tests/scenarios.sh; ~20 minutes)
check-scenarios: all
	@./tests/scenarios.sh

check-asan: deps
	@$(MAKE) --no-print-directory OUTPUT=.output-asan EXTRA_CFLAGS="$(ASAN_FLAGS)" \
		EXTRA_LDFLAGS="-fsanitize=address,undefined" all unit-bins
	@FALLACY_OUTPUT=.output-asan ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ./tests/run.sh --unit --integration

# gcc's static analyzer over all user-space code and the unit tests (-Werror:
# a new analyzer warning fails), then those unit tests under valgrind
# (tests/valgrind.sh). Not part of `make check`: it takes a few minutes.
check-analyze:
	@$(MAKE) --no-print-directory OUTPUT=.output-analyze EXTRA_CFLAGS=-fanalyzer all unit-bins || \
		{ echo "check-analyze: FAILED (gcc -fanalyzer, see the warning above)"; exit 1; }
	@./tests/valgrind.sh .output-analyze && \
		echo "check-analyze: gcc -fanalyzer clean, valgrind clean" || \
		{ echo "check-analyze: FAILED (valgrind)"; exit 1; }

BENCH_BINS := $(patsubst bench/%.c,$(OUTPUT)/bench/%,$(wildcard bench/*.c))

$(OUTPUT)/bench/%: bench/%.c $(OUTPUT)/libfallacy.a
	@mkdir -p $(@D)
	$(call msg,BENCH,$@)
	$(Q)$(CC) $(CFLAGS) $(INJECTOR_INC) $< $(OUTPUT)/libfallacy.a $(LDLIBS) -o $@

bench: all $(BENCH_BINS)
	@./bench/run.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@./scenarios/demo.sh

# --- man pages and shell completion: the program prints them itself ----------
# (from the same source as --help: fallacy __man, fallacy __complete)
MAN_DIR := $(OUTPUT)/man
COMP_DIR := $(OUTPUT)/completion

man: $(OUTPUT)/fallacy
	@rm -rf $(MAN_DIR) && mkdir -p $(MAN_DIR)
	$(call msg,MAN,$(MAN_DIR))
	$(Q)for p in $$($(OUTPUT)/fallacy __man --list); do \
		$(OUTPUT)/fallacy __man $$p >$(MAN_DIR)/$$p.1 || exit 1; done

completion: $(OUTPUT)/fallacy
	@mkdir -p $(COMP_DIR)
	$(call msg,COMPL,$(COMP_DIR))
	$(Q)$(OUTPUT)/fallacy __complete --script bash >$(COMP_DIR)/fallacy
	$(Q)$(OUTPUT)/fallacy __complete --script zsh >$(COMP_DIR)/_fallacy

# The Python client: Debian's python finds /usr/lib/python3/dist-packages,
# a /usr/local install /usr/local/lib/python3.X/dist-packages.
PYVER := $(shell /usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
PYDIR ?= $(if $(filter /usr,$(PREFIX)),/usr/lib/python3/dist-packages,$(PREFIX)/lib/python$(PYVER)/dist-packages)
DOCS := README.md $(wildcard docs/*.md)

install: all man completion
	install -D -m 0755 $(OUTPUT)/fallacy $(DESTDIR)$(PREFIX)/bin/fallacy
	install -d $(DESTDIR)$(PREFIX)/share/fallacy $(DESTDIR)$(PREFIX)/share/doc/fallacy \
		$(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
		$(DESTDIR)$(PREFIX)/share/zsh/vendor-completions $(DESTDIR)$(PYDIR)/fallacy \
		$(DESTDIR)$(PYDIR)/fallacy-$(VERSION).dist-info
	cp -r scenarios $(DESTDIR)$(PREFIX)/share/fallacy/
	rm -f $(DESTDIR)$(PREFIX)/share/fallacy/scenarios/*.sh
	install -m 0644 $(DOCS) $(DESTDIR)$(PREFIX)/share/doc/fallacy/
	install -m 0644 $(MAN_DIR)/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 $(COMP_DIR)/fallacy $(DESTDIR)$(PREFIX)/share/bash-completion/completions/fallacy
	install -m 0644 $(COMP_DIR)/_fallacy $(DESTDIR)$(PREFIX)/share/zsh/vendor-completions/_fallacy
	install -m 0644 python/fallacy/*.py $(DESTDIR)$(PYDIR)/fallacy/
	printf 'Metadata-Version: 2.1\nName: fallacy\nVersion: $(VERSION)\n' \
		>$(DESTDIR)$(PYDIR)/fallacy-$(VERSION).dist-info/METADATA
	printf '[pytest11]\nfallacy = fallacy.pytest_plugin\n' \
		>$(DESTDIR)$(PYDIR)/fallacy-$(VERSION).dist-info/entry_points.txt
	printf 'fallacy\n' >$(DESTDIR)$(PYDIR)/fallacy-$(VERSION).dist-info/top_level.txt

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/fallacy $(DESTDIR)$(PREFIX)/share/man/man1/fallacy*.1 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/fallacy \
		$(DESTDIR)$(PREFIX)/share/zsh/vendor-completions/_fallacy
	rm -rf $(DESTDIR)$(PREFIX)/share/fallacy $(DESTDIR)$(PREFIX)/share/doc/fallacy \
		$(DESTDIR)$(PYDIR)/fallacy $(DESTDIR)$(PYDIR)/fallacy-$(VERSION).dist-info

# --- the Debian package: built with debhelper in a copy of the tree ----------
# (.output/deb/src), so the tree stays clean and a clean tree is enough.
DEB_DIR := $(OUTPUT)/deb

deb:
	@rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/src
	$(call msg,COPY,$(DEB_DIR)/src)
	$(Q)tar --exclude='./.output*' --exclude=./.git --exclude=./results --exclude=./bench/out \
		--exclude='./$(OUTPUT)' -cf - . | tar -xf - -C $(DEB_DIR)/src
	$(Q)printf '%s\n' '$(GIT_DESCRIBE)' >$(DEB_DIR)/src/.version
	$(call msg,DPKG,$(DEB_DIR))
	$(Q)cd $(DEB_DIR)/src && dpkg-buildpackage -b -us -uc >../build.log 2>&1 || \
		{ tail -30 ../build.log; echo "make deb: failed, see $(DEB_DIR)/build.log"; exit 2; }
	@ls $(DEB_DIR)/*.deb

clean:
	rm -rf .output .output-asan $(FUZZ_OUT) .version

-include $(shell find $(OUTPUT) -name '*.d' 2>/dev/null)
