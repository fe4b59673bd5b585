# mailmoat: the two commands of the README, and the rest.
#   make run    install what is missing, build the release binary, start the gateway
#   make test   install what is missing, build with ASan+UBSan, run every test (ctest)
SHELL := /bin/bash
JOBS ?= $(shell nproc)
DEBUG_DIR := build/debug
RELEASE_DIR := build/release
ARGS ?=

.PHONY: all deps build run test test-build bench fuzz clean

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
