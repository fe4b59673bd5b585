# mailmoat: the two commands of the README, and the rest.
#   make run    install what is missing, build the release binary, start the gateway
#   make test   install what is missing, build with ASan+UBSan, run every test (ctest)
SHELL := /bin/bash
JOBS ?= $(shell nproc)
DEBUG_DIR := build/debug
RELEASE_DIR := build/release
ARGS ?=

.PHONY: all deps build run test test-build test-tsan bench fuzz clean

all: build

deps:
	@scripts/install-deps

$(RELEASE_DIR)/build.ninja:
	cmake -S . -B $(RELEASE_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release -DMAILMOAT_TESTS=OFF

build: deps $(RELEASE_DIR)/build.ninja
	ninja -C $(RELEASE_DIR) -j $(JOBS) mailmoat

run: build
	@echo "mailmoat: starting the gateway with the built-in defaults (Ctrl-C stops it)"
	@echo "  HTTP (health, metrics):  http://127.0.0.1:8025/healthz"
	@echo "  data directory:          $(CURDIR)/var"
	@echo "  configuration:           built-in defaults; see etc/mailmoat.toml"
	$(RELEASE_DIR)/mailmoat serve $(ARGS)

$(DEBUG_DIR)/build.ninja:
	cmake -S . -B $(DEBUG_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DMAILMOAT_SANITIZE=ON

test-build: deps $(DEBUG_DIR)/build.ninja
	ninja -C $(DEBUG_DIR) -j $(JOBS)

test: test-build
	cd $(DEBUG_DIR) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest -j $(JOBS) --output-on-failure --timeout 600

# make test-tsan: the tests that run more than one thread or process in one
# address space, built with ThreadSanitizer in build/tsan (a separate build;
# not part of `make test`, see docs/hardening.md). Any report fails the run:
# in a test binary through halt_on_error, in the gateway the tests start
# through the harness, which fails the test on a report in the gateway's stderr.
TSAN_DIR := build/tsan
TSAN_TARGETS := mailmoat harness_test store_pg_fixture store_recorder_test attachments_sandbox_test \
  dns_unbound_integration_test smtp_test delivery_test trace_test links_integration_test \
  milter_integration_test attachments_integration_test load_test fault_test crash_test queue_spool_test netio_test
TSAN_TESTS := ^([A-Za-z]+/)?(Harness|IoPool|SpillCodec|SpillFile|RecorderTest|RecorderPostgres|Sandbox|SandboxIpc|UnboundServer|Smtp|SmtpSmuggling|Delivery|Trace|SafeLinks|Milter|Attachments|Load|Faults|CrashRecovery|SpoolTest)[.]
# Not a concurrency test, and timing-bound under TSan: its worker reaches the memory
# limit only after TSan has shadowed each 64 MB block, which can lose the race with
# the 5 s analysis deadline on a loaded machine (the ASan run keeps it).
TSAN_EXCLUDE := ^Sandbox[.]AllocatingPastTheLimitStopsTheWorker$$
TSAN_ENV := G_SLICE=always-malloc TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$(CURDIR)/tests/tsan.supp"
test-tsan: deps
	cmake -S . -B $(TSAN_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DMAILMOAT_TSAN=ON
	nice ninja -C $(TSAN_DIR) -j $(JOBS) $(TSAN_TARGETS)
	cd $(TSAN_DIR) && $(TSAN_ENV) nice ctest -j $(JOBS) --output-on-failure --timeout 900 -R '$(TSAN_TESTS)' -E '$(TSAN_EXCLUDE)'

bench:
	@scripts/install-deps bench
	cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DMAILMOAT_TESTS=OFF -DMAILMOAT_BENCH=ON
	ninja -C build/bench -j $(JOBS)
	bench/run-all

# make fuzz [FUZZ_SECONDS=60]: every libFuzzer target for FUZZ_SECONDS; fails on any finding.
FUZZ_SECONDS ?= 60
fuzz:
	@scripts/install-deps fuzz
	CC=clang-19 CXX=clang++-19 cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DMAILMOAT_TESTS=OFF -DMAILMOAT_FUZZ=ON
	ninja -C build/fuzz -j $(JOBS) $$(ninja -C build/fuzz -t targets all | grep -o '^fuzz_[a-z0-9_]*' | sort -u)
	fuzz/run-all build/fuzz $(FUZZ_SECONDS)

clean:
	rm -rf build
