# Two commands for a newcomer: `make run` and `make test`. Both bootstrap first.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
# ccache keyed on paths relative to the checkout, so a fresh clone in another
# folder reuses objects compiled anywhere else on this machine.
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1

.PHONY: all bootstrap build run test unit integration fuzz bench bench-router format clean

all: build

bootstrap:
	@scripts/bootstrap

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja $(CMAKE_FLAGS)

build: bootstrap $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

# Starts the gateway on the demo config: proxy on :8080, admin on 127.0.0.1:9080.
run: build
	scripts/run-demo $(BUILD_DIR)/gatehouse

# Unit tests, integration tests (real binary, nginx, test upstream) and a
# short libFuzzer run of every fuzz target; ends with ctest's summary line.
test: build
	scripts/test-all $(BUILD_DIR)

fuzz: bootstrap
	scripts/fuzz-build build-fuzz
	cd build-fuzz && ctest -L fuzz --output-on-failure

bench: build
	bench/run.sh $(BUILD_DIR)/gatehouse

format:
	find src bench fuzz -name '*.[ch]pp' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR) build-fuzz build-asan
