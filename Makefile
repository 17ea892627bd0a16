# The README's commands. Each installs what is missing first (scripts/install-deps.sh).
BUILD_DIR ?= build
TEST_BUILD_DIR ?= build-asan
FUZZ_BUILD_DIR ?= build-fuzz
FUZZ_SECONDS ?= 60
STATE_DIR ?= .state
JOBS ?= $(shell nproc)
# Real Kubernetes OpenAPI documents, used when present (kubectl explain for built-in types).
OPENAPI_DIR ?= ../shared/k8s-openapi/v3

.PHONY: all deps build build-test build-fuzz dev test unit-test integration-test fmt fmt-check fuzz bench bench-smoke clean

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRC_TESTS=OFF >/dev/null
	@ninja -C $(BUILD_DIR) -j $(JOBS) remote-code
	@echo "built $(BUILD_DIR)/bin/remote-code"

# The tests run against an AddressSanitizer/UndefinedBehaviorSanitizer build.
build-test: deps
	@cmake -S . -B $(TEST_BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRC_SANITIZE=ON -DRC_TESTS=ON >/dev/null
	@start=$$(date +%s); ninja -C $(TEST_BUILD_DIR) -j $(JOBS) && \
		echo "build-test: $$(($$(date +%s) - start))s"

# libFuzzer targets (tests/fuzz/): clang, with AddressSanitizer and UndefinedBehaviorSanitizer.
build-fuzz: deps
	@cmake -S . -B $(FUZZ_BUILD_DIR) -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DRC_FUZZ=ON -DRC_TESTS=OFF -DRC_BENCH=OFF >/dev/null
	@ninja -C $(FUZZ_BUILD_DIR) -j $(JOBS) fuzz-targets

# Each target for FUZZ_SECONDS (60); fails on any crash, leak or sanitizer report.
fuzz: build-fuzz
	@bash tests/fuzz/run.sh $(FUZZ_BUILD_DIR) $(FUZZ_SECONDS)

# make test includes a short fuzzing run of every target (tests/run-all.sh, RC_FUZZ_DIR).
test: build-test build-fuzz
	@RC_FUZZ_DIR=$(FUZZ_BUILD_DIR) bash tests/run-all.sh $(TEST_BUILD_DIR)

dev: build
	@$(BUILD_DIR)/bin/remote-code dev --state-dir $(STATE_DIR) \
		$(if $(wildcard $(OPENAPI_DIR)),--openapi-dir $(OPENAPI_DIR))

fmt:
	@find operator include tests -name '*.cpp' -o -name '*.h' | xargs clang-format -i

fmt-check:
	@find operator include tests -name '*.cpp' -o -name '*.h' | xargs clang-format --dry-run --Werror

# Benchmarks against the simulator (about 20 minutes on 2 cores): bench/RESULTS.md, raw data in
# bench/out/. Not part of `make test`, which runs the smoke version (test_bench_smoke.py).
# BENCH_ARGS are passed to bench/run.py (e.g. --phases portal, --sizes 100,1000).

bench: build
	@ninja -C $(BUILD_DIR) -j $(JOBS) rc-bench
	@/usr/bin/python3 bench/run.py --bin-dir $(BUILD_DIR)/bin --bench-bin $(BUILD_DIR)/bin/rc-bench $(BENCH_ARGS)

bench-smoke: build
	@ninja -C $(BUILD_DIR) -j $(JOBS) rc-bench
	@/usr/bin/python3 bench/run.py --smoke --bin-dir $(BUILD_DIR)/bin --bench-bin $(BUILD_DIR)/bin/rc-bench \
		--out $(BUILD_DIR)/bench-smoke --results $(BUILD_DIR)/bench-smoke/RESULTS.md

clean:
	rm -rf $(BUILD_DIR) $(TEST_BUILD_DIR) $(FUZZ_BUILD_DIR)
