# SPDX-License-Identifier: MIT
# Thin front end over CMake. `make check` is what CI and a new user run.
BUILD      ?= build
BUILD_ASAN ?= build-asan
BUILD_FUZZ ?= build-fuzz
JOBS       ?= $(shell nproc)

.PHONY: all deps build build-asan build-fuzz check test demo bench clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS) >/dev/null

build-asan: deps
	@cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DSPA_SANITIZE=ON >/dev/null
	@cmake --build $(BUILD_ASAN) -j $(JOBS) >/dev/null

build-fuzz: deps
	@CC=clang cmake -S . -B $(BUILD_FUZZ) -DCMAKE_BUILD_TYPE=Debug -DSPA_FUZZ=ON >/dev/null
	@cmake --build $(BUILD_FUZZ) -j $(JOBS) >/dev/null

# Every tier in the plain build (plus valgrind), the sanitizer build, and
# the bounded fuzz run; ends with one "N passed, N failed" line.
check: build build-asan build-fuzz
	@scripts/run-tests.sh $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ)

test: build
	@scripts/run-tests.sh $(BUILD)

demo: build
	@if [ -x scripts/demo.sh ]; then scripts/demo.sh $(BUILD); \
	 else echo "make demo: not available yet (needs the engine, client and a firewall plugin)"; exit 1; fi

bench: build
	@cmake --build $(BUILD) --target bench >/dev/null 2>&1 || true
	@if [ -x bench/run.sh ]; then bench/run.sh $(BUILD); \
	 else $(BUILD)/bench/spa_bench_wire; fi

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ)
