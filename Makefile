# gpufleet: the two set-up commands are `make run` and `make test`; everything else is optional.
#   make run        install deps, build Release, run the main job: `gpufleet up` (UP_FLAGS=... adds flags)
#   make test       install deps, build, run the whole ctest suite (unit, CLI, fuzz corpus replay)
#   make test-asan  the same suite under AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/)
#   make bench      every benchmark under bench/ (bench/run all); figures go to docs/PERFORMANCE.md
#   make fuzz       libFuzzer targets (clang) for FUZZ_SECONDS each (default 60)
BUILD_DIR ?= build
BUILD_TYPE ?= Release
CMAKE_FLAGS ?=
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 60

.PHONY: all run test build deps bench fuzz test-asan clean format

all: build

deps:
	@./scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD_DIR) -j $(JOBS)

UP_FLAGS ?=
run: build
	$(BUILD_DIR)/gpufleet up $(UP_FLAGS)

# The suite needs no benchmark binaries; `make bench` turns them back on.
test: CMAKE_FLAGS += -DGPUFLEET_BENCH=OFF
test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 600

test-asan:
	$(MAKE) test BUILD_DIR=build-asan BUILD_TYPE=RelWithDebInfo \
	  CMAKE_FLAGS="-DGPUFLEET_SANITIZE=ON -DGPUFLEET_BENCH=OFF"

bench: CMAKE_FLAGS += -DGPUFLEET_BENCH=ON
bench: build
	bench/run all

fuzz: deps
	@cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_COMPILER=clang++-14 -DGPUFLEET_FUZZ=ON -DGPUFLEET_TESTS=OFF \
	  -DGPUFLEET_BENCH=OFF >/dev/null
	@cmake --build build-fuzz -j $(JOBS)
	scripts/fuzz.sh build-fuzz $(FUZZ_SECONDS)

format:
	find src tests bench -name '*.h' -o -name '*.cc' | xargs clang-format -i

clean:
	rm -rf build build-asan build-fuzz
