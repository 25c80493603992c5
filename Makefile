# Convenience targets; each installs what it needs first (scripts/install-deps is fast when all
# is present). Plain CMake works too: cmake -S . -B build -G Ninja && cmake --build build
PRESET ?= release
BUILD := build/$(PRESET)
JOBS ?= $(shell nproc)
SEEDS ?= 2000
FUZZ_SECONDS ?= 30

.PHONY: deps configure build run test test-asan thread-safety coverage fuzz bench format lint sim clean \
	install dist

deps:
	./scripts/install-deps

configure: deps
	cmake --preset $(PRESET) >/dev/null

build: configure
	cmake --build $(BUILD) -j $(JOBS)

# A local 3-node cluster on the embedded engine (RocksDB): APIs on 127.0.0.1:7777, :7787, :7797,
# data in ./nds-demo; Ctrl-C stops it.
run: build
	$(BUILD)/src/cli/nds demo --data ./nds-demo

# Installs bin/nds, the systemd unit, bash completion, the man page and docs under PREFIX (default /usr/local).
PREFIX ?= /usr/local
install: build
	cmake --install $(BUILD) --prefix $(PREFIX) --strip

# nds-<version>-linux-<arch>.tar.gz in the current directory (scripts/make-dist), checked by
# unpacking it into an empty directory and running a node from it (scripts/test-dist).
dist: build
	./scripts/make-dist $(BUILD) .

# Every test: unit, simulator and process tests.
test: build
	./scripts/install-deps --tests
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

# The same tests under AddressSanitizer and UndefinedBehaviorSanitizer (the asan preset, g++ -O0),
# built with --coverage too: after the tests it prints line and branch coverage per module of src/
# (scripts/coverage-report, gcovr); the full per-file report is build/asan/coverage.txt.
test-asan: deps
	./scripts/install-deps --coverage
	cmake --preset asan >/dev/null
	cmake --build build/asan -j $(JOBS)
	find build/asan -name '*.gcda' -delete
	ctest --test-dir build/asan --output-on-failure -j $(JOBS)
	./scripts/coverage-report build/asan

# Coverage comes from the sanitizer run: one build and one run of the suite give both.
coverage: test-asan

# The whole tree built with clang++ -Wthread-safety (-Werror): the NDS_GUARDED_BY / NDS_REQUIRES
# annotations checked (src/util/thread_annotations.h).
thread-safety: deps
	cmake --preset thread-safety >/dev/null
	cmake --build build/thread-safety -j $(JOBS)

# Every libFuzzer target (fuzz/, docs/fuzzing.md) built with clang++ and run FUZZ_SECONDS each;
# fails on a crash, a hang or a sanitizer report.
fuzz: deps
	cmake --preset fuzz >/dev/null
	cmake --build build/fuzz -j $(JOBS) --target fuzz_targets
	./scripts/run-fuzz build/fuzz $(FUZZ_SECONDS)

bench: build
	./scripts/run-benchmarks $(BUILD)

format:
	git ls-files '*.h' '*.cc' | xargs clang-format -i

# clang-format, then clang-tidy with the checks of .clang-tidy (scripts/run-clang-tidy; it only
# needs a configuration's compile_commands.json, not its build) over TIDY_PATHS: the whole tree,
# every finding fixed or marked (docs/testing.md "clang-tidy"). fuzz/ is compiled only by the
# fuzz configuration, so it is checked with build/fuzz's flags, the rest with build/thread-safety's.
# A file that passed before and did not change is not checked again. `make lint TIDY_PATHS=src/net`
# checks one directory.
TIDY_PATHS ?= src tests bench examples fuzz
TIDY_FUZZ = $(filter fuzz fuzz/%,$(TIDY_PATHS))
TIDY_REST = $(filter-out fuzz fuzz/%,$(TIDY_PATHS))
lint: deps
	git ls-files '*.h' '*.cc' | xargs clang-format --dry-run -Werror
	$(if $(TIDY_REST),cmake --preset thread-safety >/dev/null)
	$(if $(TIDY_REST),JOBS=$(JOBS) ./scripts/run-clang-tidy build/thread-safety $(TIDY_REST))
	$(if $(TIDY_FUZZ),cmake --preset fuzz >/dev/null)
	$(if $(TIDY_FUZZ),JOBS=$(JOBS) ./scripts/run-clang-tidy build/fuzz $(TIDY_FUZZ))

# The simulator's seed sweep, with members joining and leaving during the runs; extra nds-sim
# flags go in SIM_FLAGS (e.g. SIM_FLAGS=--no-member-changes, SIM_FLAGS="--nodes 5").
SIM_FLAGS ?=
sim: build
	$(BUILD)/src/sim/nds-sim --seeds $(SEEDS) $(SIM_FLAGS)

clean:
	rm -rf build
