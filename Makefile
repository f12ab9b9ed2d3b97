# SPDX-License-Identifier: MIT
# Thin front end over CMake. `make check` is what CI and a new user run.
BUILD      ?= build
BUILD_ASAN ?= build-asan
BUILD_FUZZ ?= build-fuzz
BUILD_REL  ?= build-release
BUILD_DEB  ?= build-deb
JOBS       ?= $(shell nproc)

# The development builds treat warnings as errors; the packagers' builds
# (build-release, build-deb) do not, as a user's or distribution's would not.
DEV_FLAGS  := -DSPA_WERROR=ON

.PHONY: all deps build build-asan build-fuzz build-release build-deb package check test fuzz demo bench clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(DEV_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS) >/dev/null

build-asan: deps
	@cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DSPA_SANITIZE=ON $(DEV_FLAGS) >/dev/null
	@cmake --build $(BUILD_ASAN) -j $(JOBS) >/dev/null

build-fuzz: deps
	@CC=clang cmake -S . -B $(BUILD_FUZZ) -DCMAKE_BUILD_TYPE=Debug -DSPA_FUZZ=ON $(DEV_FLAGS) >/dev/null
	@cmake --build $(BUILD_FUZZ) -j $(JOBS) >/dev/null

# What a packager runs: a Release build, and one with Debian's
# dpkg-buildflags (hardening=+all; build type None, as debhelper does), both
# without -Werror. Only compiled, without the test suite: a compile error
# fails make check (with the end of the log), warnings are listed.
# $(call packager_build,<dir>,<environment>,<cmake args>)
define packager_build
	@rm -rf $(1) && mkdir -p $(1)
	@if env $(2) cmake -S . -B $(1) -DSPA_BUILD_TESTS=OFF $(3) >$(1)/build.log 2>&1 && \
	    cmake --build $(1) -j $(JOBS) >>$(1)/build.log 2>&1; then \
	  n=$$(grep -c 'warning:' $(1)/build.log); \
	  echo "== $(1): compiled ($$n compiler warnings)"; \
	  grep 'warning:' $(1)/build.log | sort -u | sed 's/^/  /'; \
	else \
	  echo "== $(1): FAILED to compile; end of $(1)/build.log:"; \
	  tail -n 30 $(1)/build.log; exit 1; \
	fi
endef
# CMake reads CFLAGS and LDFLAGS from the environment, not CPPFLAGS.
DPKG_FLAGS = DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get
DEB_ENV    = CFLAGS="$(shell $(DPKG_FLAGS) CFLAGS) $(shell $(DPKG_FLAGS) CPPFLAGS)" \
             LDFLAGS="$(shell $(DPKG_FLAGS) LDFLAGS)"

build-release: deps
	$(call packager_build,$(BUILD_REL),,-DCMAKE_BUILD_TYPE=Release)

# Built as the packages are: prefix /usr (multiarch libdir, /etc/spa), the
# unit where Debian 12 keeps units.
PKG_FLAGS  := -DCMAKE_INSTALL_PREFIX=/usr -DSPA_SYSTEMD_UNIT_DIR=/lib/systemd/system
build-deb: deps
	$(call packager_build,$(BUILD_DEB),$(DEB_ENV),-DCMAKE_BUILD_TYPE=None $(PKG_FLAGS))

# The Debian packages (one per component: cmake/packaging.cmake) from the
# Debian-flags build, left in $(BUILD_DEB)/*.deb.
package: build-deb
	@rm -f $(BUILD_DEB)/*.deb
	@cd $(BUILD_DEB) && cpack -G DEB >cpack.log 2>&1 || { tail -n 30 cpack.log; exit 1; }
	@ls $(BUILD_DEB)/*.deb | sed 's/^/== package: /'

# Every tier in the plain build (plus valgrind), the sanitizer build, and
# the bounded fuzz run, after the packagers' builds compiled; ends with one
# "N passed, N failed, N skipped" line.
check: build build-asan build-fuzz build-release build-deb package
	@scripts/run-tests.sh $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ)

test: build
	@scripts/run-tests.sh $(BUILD)

# Every libFuzzer harness for FUZZ_SECONDS each (make fuzz FUZZ_SECONDS=600),
# one after the other, in the clang fuzz build; FUZZ_JOBS runs several at
# once. Each run's log, grown corpus and any crash input stay under
# $(BUILD_FUZZ)/tests/fuzz/run-<harness>/.
FUZZ_SECONDS ?= 300
FUZZ_JOBS    ?= 1
fuzz: build-fuzz
	@cd $(BUILD_FUZZ) && SPA_FUZZ_SECONDS=$(FUZZ_SECONDS) \
	  ctest -L '^fuzz$$' -j $(FUZZ_JOBS) --output-on-failure -V

demo: build
	@if [ -x scripts/demo.sh ]; then scripts/demo.sh $(BUILD); \
	 else echo "make demo: not available yet (needs the engine, client and a firewall plugin)"; exit 1; fi

bench: build
	@cmake --build $(BUILD) --target bench >/dev/null 2>&1 || true
	@if [ -x bench/run.sh ]; then bench/run.sh $(BUILD); \
	 else $(BUILD)/bench/spa_bench_wire; fi

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ) $(BUILD_REL) $(BUILD_DEB)
