# usbox - plain GNU make; dependencies through pkg-config.
#
#   make                 build build/usbox
#   make deps            install what building and running need (apt-get; sudo when not root)
#   make deps-test       that, and what make check needs: test tools, QEMU and a kernel for the VMs
#   make run             deps + build + start `usbox -- bash`
#   make check           deps-test + build + unit, integration (as an unprivileged user) and VM tests
#   make check-vm        the VM tests alone: cgroup v2, and the integration suite on Debian 12's kernel
#   make asan            build build-asan/usbox with ASan and UBSan
#   make check-asan      the test suite against the ASan/UBSan build
#   make valgrind        unit tests and usbox's pre-clone paths under valgrind
#   make bench [RUNS=N]  bench/startup against bwrap and unshare, and the cost of the
#                        seccomp filter and the home layer, as an unprivileged user
#   make bench-images    load, container start and disk beside podman (podman, runc installed)
#   make bench-lifecycle exec against a fresh sandbox and podman exec; supervisors' RSS, 100 idle containers
#   make bench-oci       usbox-oci beside runc and crun: podman run, and a bundle's create+start+delete
#   make bench-vm        the cgroup path's cost, in the VM
#   make bench-net       network throughput, round trips, helper RSS against slirp4netns and pasta (root)
#   make bench-delay     throughput up and down at 0, 10 and 50 ms RTT (a delay line) beside slirp4netns (root)
#   make install PREFIX=/usr/local   usbox, its man page and its bash completion
#   make lint            cppcheck and clang-tidy
#   make fuzz            libFuzzer on every text parser (FUZZ_SECONDS each)

VERSION   := 0.1.0
PREFIX    ?= /usr/local
BUILD     ?= build
CC        ?= cc
PKGS      := libcap-ng libnl-3.0 libnl-route-3.0
# libsystemd: headers only; the library is dlopen()ed on the D-Bus path (cgroup/systemd.c);
# so is libarchive (libarchive-dev), by the image commands (image/layer.c)
# and libcrypto (libssl-dev) for sha256 (image/digest.c); json-c (common/jsonc.c) likewise
SD_CFLAGS  = $(shell pkg-config --cflags libsystemd 2>/dev/null)
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CHECK_LIBS = $(shell pkg-config --libs check 2>/dev/null)

WARN      := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
             -Wno-unused-parameter -Wvla-larger-than=65536
ifneq ($(CI)$(WERROR),)
WARN      += -Werror
endif
CFLAGS    ?= -O2 -g
ALL_CFLAGS = -std=gnu17 -D_GNU_SOURCE -DUSBOX_VERSION='"$(VERSION)"' $(WARN) $(CFLAGS) $(PKG_CFLAGS) $(SD_CFLAGS) \
             -fstack-protector-strong -D_FORTIFY_SOURCE=2 -MMD -MP
LDFLAGS   ?=
ALL_LDFLAGS = $(LDFLAGS) -Wl,-z,relro -Wl,--as-needed
PKG_LIBS  += -ldl

LIB_SRCS  := $(wildcard common/*.c idmap/*.c netns/*.c cgroup/*.c image/*.c container/*.c doctor/*.c oci/*.c) \
             $(filter-out seccomp/gen.c,$(wildcard seccomp/*.c)) \
             $(wildcard sandbox/*.c) $(filter-out cli/main.c,$(wildcard cli/*.c))
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/%.o)
# the default seccomp filters, written at build time by seccomp/gen.c (below)
LIB_OBJS  += $(BUILD)/seccomp/filters.o
UNIT_SRCS := $(wildcard tests/unit/*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all deps deps-test run check check-unit check-integration check-vm asan check-asan valgrind fuzz bench bench-images bench-lifecycle bench-oci bench-vm bench-net bench-delay install clean lint

all: $(BUILD)/usbox $(BUILD)/usbox-oci

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# seccomp/gen.c runs on the build host with libseccomp and writes the default
# filters as BPF arrays; usbox itself only dlopen()s libseccomp and json-c for
# --seccomp FILE (seccomp/profile.c).
$(BUILD)/seccomp/gen: seccomp/gen.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(shell pkg-config --libs libseccomp 2>/dev/null || echo -lseccomp)

$(BUILD)/seccomp/filters.c: $(BUILD)/seccomp/gen
	$< > $@.tmp && mv $@.tmp $@

$(BUILD)/seccomp/filters.o: $(BUILD)/seccomp/filters.c
	$(CC) $(ALL_CFLAGS) -iquote seccomp -c -o $@ $<

$(BUILD)/libusbox.a: $(LIB_OBJS)
	$(AR) rcs $@ $^

$(BUILD)/usbox: $(BUILD)/cli/main.o $(BUILD)/libusbox.a
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $(filter %.o %.a,$^) $(PKG_LIBS)

# usbox-oci: the same binary under the name engines call (cli/oci.c)
$(BUILD)/usbox-oci: $(BUILD)/usbox
	ln -sf usbox $@

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libusbox.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $(filter %.c %.a,$^) $(PKG_LIBS) $(CHECK_LIBS)

deps:
	@tests/install-deps.sh

deps-test:
	@tests/install-deps.sh --test

run: deps
	@$(MAKE) --no-print-directory all
	$(BUILD)/usbox -- bash

check: deps-test
	@$(MAKE) --no-print-directory check-unit check-integration check-vm

check-unit: $(UNIT_BINS)
	@tests/run-unit.sh $(UNIT_BINS)

HELPERS := $(BUILD)/tests/helpers/tiocsti $(BUILD)/tests/escape/attempts
$(BUILD)/tests/helpers/%: tests/helpers/%.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu17 -O2 $(WARN) -o $@ $<

# the man page and the bash completion, staged with the helpers for the
# integration suite's checks of them against the binary (suite-docs.sh)
HELPERS += $(BUILD)/tests/helpers/usbox.1 $(BUILD)/tests/helpers/usbox.bash
$(BUILD)/tests/helpers/usbox.1: docs/usbox.1
	install -D -m 0644 $< $@
$(BUILD)/tests/helpers/usbox.bash: contrib/completion/usbox.bash
	install -D -m 0644 $< $@

# the escape suite's in-sandbox attempts (tests/escape/, run by check-integration)
$(BUILD)/tests/escape/attempts: tests/escape/attempts.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu17 -O2 $(WARN) -o $@ $<

check-integration: $(BUILD)/usbox $(HELPERS)
	@tests/integration/run.sh $(BUILD)/usbox $(HELPERS)

# cgroup v2 limits, in throw-away QEMU VMs (tests/vm/README.md)
check-vm: $(BUILD)/usbox $(HELPERS)
	@tests/vm/run.sh $(BUILD)/usbox $(abspath $(HELPERS))

asan:
	@$(MAKE) --no-print-directory BUILD=build-asan \
		CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
		LDFLAGS="-fsanitize=address,undefined" all

check-asan: deps-test
	@$(MAKE) --no-print-directory BUILD=build-asan \
		CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
		LDFLAGS="-fsanitize=address,undefined" check-unit check-integration

# Valgrind 3.19 (Debian 12) does not know open_tree, fsopen, mount_setattr or
# pidfd_send_signal, so a whole sandbox cannot run under it; check-asan covers
# that.  Here: every unit test, and usbox's own paths up to the clone.
VG = valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
     --child-silent-after-fork=yes
valgrind: $(UNIT_BINS) $(BUILD)/usbox
	@for t in $(UNIT_BINS); do CK_FORK=no $(VG) $$t || exit 1; done
	@$(VG) $(BUILD)/usbox --help >/dev/null
	@$(VG) $(BUILD)/usbox -e A=1 --env-file /dev/null -v /tmp:/x:ro --tmpfs /t:size=1M --bogus 2>/dev/null; \
		test $$? -eq 125
	@$(VG) $(BUILD)/usbox --uid x -- true 2>/dev/null; test $$? -eq 125
	@echo "valgrind: clean"

$(BUILD)/bench/startup: bench/startup.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu17 -O2 $(WARN) -o $@ $<

bench: $(BUILD)/usbox $(BUILD)/bench/startup
	@bench/run.sh $(BUILD)/usbox $(BUILD)/bench/startup $(if $(RUNS),-n $(RUNS))
	@bench/run.sh $(BUILD)/usbox $(BUILD)/bench/startup -H $(if $(RUNS),-n $(RUNS))

bench-images: $(BUILD)/usbox $(BUILD)/bench/startup
	@bench/images.sh $(BUILD)/usbox $(BUILD)/bench/startup $(if $(RUNS),$(RUNS))

bench-lifecycle: $(BUILD)/usbox $(BUILD)/bench/startup
	@bench/lifecycle.sh $(BUILD)/usbox $(BUILD)/bench/startup $(if $(RUNS),$(RUNS))

bench-oci: $(BUILD)/usbox $(BUILD)/bench/startup
	@bench/oci.sh $(BUILD)/usbox $(BUILD)/bench/startup $(if $(RUNS),$(RUNS))

bench-vm: $(BUILD)/usbox $(BUILD)/bench/startup
	@bench/vm.sh $(BUILD)/usbox $(BUILD)/bench/startup $(RUNS)

bench-net: $(BUILD)/usbox $(BUILD)/bench/startup
	@bench/net.sh $(BUILD)/usbox $(BUILD)/bench/startup $(SECONDS)

# a user-space delay line between two network namespaces (no sch_netem here)
$(BUILD)/bench/delayline: bench/delayline.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu17 -D_GNU_SOURCE -O2 $(WARN) -o $@ $<

bench-delay: $(BUILD)/usbox $(BUILD)/bench/delayline
	@bench/delay.sh $(BUILD)/usbox $(BUILD)/bench/delayline $(or $(SECONDS),5)

# libFuzzer harnesses for every parser of untrusted text (clang), each run for
# FUZZ_SECONDS under ASan and UBSan.
FUZZ_SECONDS ?= 20
FUZZ_LIB  := common/error.c common/parse.c common/fdpass.c common/proctitle.c idmap/idmap.c idmap/holder.c \
             cli/options.c cli/env.c sandbox/spec.c common/pathfind.c cgroup/systemd.c \
             cgroup/cgroup.c netns/portfwd.c netns/portrelay.c netns/netdef.c netns/framefilter.c common/statedir.c common/daemon.c \
             netns/allow.c netns/dns.c netns/egress.c netns/netns.c \
             seccomp/profile.c common/jsonc.c image/layer.c image/tarsplit.c image/digest.c image/format_json.c \
             image/format_config.c sandbox/specjson.c container/log.c container/state.c oci/config.c oci/hooks.c \
             oci/fields.c oci/resources.c
FUZZERS   := $(patsubst tests/fuzz/%.c,build-fuzz/%,$(wildcard tests/fuzz/*.c))
build-fuzz/%: tests/fuzz/%.c $(FUZZ_LIB)
	@mkdir -p build-fuzz
	clang -std=gnu17 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined $(PKG_CFLAGS) $(SD_CFLAGS) \
		-o $@ $< $(FUZZ_LIB) $(PKG_LIBS)

fuzz: $(FUZZERS)
	@for f in $(FUZZERS); do mkdir -p build-fuzz/corpus-$$(basename $$f); \
		$$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=0 build-fuzz/corpus-$$(basename $$f) 2>&1 | \
		grep -E 'Done|ERROR|SUMMARY' || exit 1; done

install: $(BUILD)/usbox
	install -D -m 0755 $(BUILD)/usbox $(DESTDIR)$(PREFIX)/bin/usbox
	ln -sf usbox $(DESTDIR)$(PREFIX)/bin/usbox-oci
	install -D -m 0644 docs/usbox.1 $(DESTDIR)$(PREFIX)/share/man/man1/usbox.1
	install -D -m 0644 contrib/completion/usbox.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/usbox

# Leaks are left to LSan and valgrind: cppcheck 2.10 does not model
# __attribute__((cleanup)), through which usbox frees and closes.
lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
		--suppress=memleak --suppress=resourceLeak \
		--inline-suppr --std=c11 -D_GNU_SOURCE common idmap netns sandbox cli cgroup seccomp image container
	@# One file an invocation: clang-tidy 14's valist checker carries state from
	@# one file to the next and then flags common/error.c's va_start.
	@for f in $(LIB_SRCS) cli/main.c; do \
		out=$$(clang-tidy --quiet --warnings-as-errors='*' $$f -- $(ALL_CFLAGS) 2>&1) || \
			{ echo "$$out" | grep -v 'warnings generated'; exit 1; }; done

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
