# SonoSeg: `make demo` segments the bundled samples with the bundled model; `make test` runs every test.
# Both install missing system packages first (scripts/bootstrap is a fast no-op when nothing is missing).
SWIFT ?= swift
BIN := .build/release/sonoseg
# compare.py runs its commands with PATH=/usr/bin:/bin, so pass the interpreter that has torch by full path.
PYTHON ?= $(shell command -v python3)

# Test targets whose code calls oneDNN or the vector kernels (the readers' and datasets' suites do not).
KERNEL_SUITES := --filter SonoTensorTests --filter SonoNNTests --filter SonoModelsTests --filter SonoPipelineTests \
  --filter SonoImplicitTests --filter SonoClassifyTests --filter sonosegTests

.PHONY: all bootstrap build test demo serve bench-serve bench compare fuzz fuzz-asan libfuzzer clean rebuild-%

all: build

bootstrap:
	@scripts/bootstrap

build: bootstrap
	$(SWIFT) build -c release --product sonoseg

# Each step prints the time it starts, so a slow CI run shows where its minutes went.
STAMP = @echo "== $$(date +%T)"

test:
	@scripts/bootstrap --test
	$(STAMP) debug build
	$(SWIFT) build --build-tests
	$(STAMP) XCTests
	$(SWIFT) test --skip-build --disable-swift-testing
	# The suites that run kernels again with oneDNN capped at AVX2, so an AVX-512 host also checks what an
	# AVX2-only host computes (on an AVX2-only host both runs take the same path).
	$(STAMP) XCTests under the AVX2 cap
	ONEDNN_MAX_CPU_ISA=AVX2 $(SWIFT) test --skip-build --disable-swift-testing $(KERNEL_SUITES)
	# The scale-out recipes of docs/scale-out.md as written: mpirun, a Slurm array, a Kubernetes Indexed Job.
	$(STAMP) scale-out
	scripts/check-scale-out.sh .build/debug/sonoseg
	$(STAMP) DICOM out
	scripts/check-dicom-out.sh .build/debug/sonoseg
	$(STAMP) ONNX
	scripts/check-onnx.sh .build/debug/sonoseg
	$(STAMP) MPI training
	scripts/check-distributed.sh .build/debug/sonoseg
	# The reading room over HTTP on 127.0.0.1: hostile requests, 400 requests from 32 clients, SIGTERM and
	# kill -9, then the page in headless Chromium (docs/serve.md; `FULL=1 scripts/check-serve.sh` for 1,000).
	$(STAMP) reading room
	scripts/check-serve.sh .build/debug/sonoseg-serve .build/debug/sonoseg
	# Every reader of untrusted bytes, under AddressSanitizer: 20,000 mutated inputs (`make fuzz-asan`: 200,000).
	$(STAMP) ASan build
	$(SWIFT) build -c release --sanitize=address --scratch-path .build-asan --product sonoseg
	$(STAMP) fuzz
	.build-asan/release/sonoseg fuzz --runs 20000
	$(STAMP) done

# The reading room on a copy of the samples (out/reading-room; reviews are saved there): open the URL it prints.
ROOT ?= out/reading-room
serve: bootstrap
	$(SWIFT) build -c release --product sonoseg
	$(SWIFT) build -c release --product sonoseg-serve
	@[ -d $(ROOT) ] || { mkdir -p $(ROOT) && cp samples/*.png $(ROOT)/; }
	.build/release/sonoseg serve --root $(ROOT) $(if $(PORT),--port $(PORT))

# Latency and throughput of POST /v1/segment (256-px image) at 1, 4 and 16 clients against in-process and cold runs.
bench-serve: bootstrap
	$(SWIFT) build -c release --product sonoseg
	$(SWIFT) build -c release --product sonoseg-serve
	$(PYTHON) scripts/bench-serve.py --server .build/release/sonoseg-serve --sonoseg .build/release/sonoseg

demo: build
	$(BIN) segment samples --out out/demo
	@echo "demo: masks, probability maps and overlays in out/demo/, measurements in out/demo/summary.csv"

# Speed against PyTorch on this machine (needs `pip install torch`). `make compare ISA=AVX2` caps both sides at
# AVX2 (oneDNN's ONEDNN_MAX_CPU_ISA, PyTorch's ATEN_CPU_CAPABILITY): what a CPU without AVX-512 runs.
ISA ?=
WORKLOADS ?= unet-train,unet-infer,mlp-train,mlp-latent,resnet50-train
compare: build
	$(PYTHON) ../shared/bench/compare.py $(BIN) $(PYTHON) ../shared/bench/torch_reference.py \
	  --workloads $(WORKLOADS) $(if $(ISA),--isa $(ISA))

# `make bench ISA=AVX2` times SonoSeg alone under that cap; `sonoseg bench kernels` lists oneDNN's kernels.
bench: build
	$(if $(ISA),ONEDNN_MAX_CPU_ISA=$(ISA)) $(BIN) bench

# `make fuzz` feeds 200,000 mutants of fuzz/corpus/ to every reader of untrusted bytes (`sonoseg fuzz --help`).
fuzz: build
	$(BIN) fuzz --runs 200000

# Coverage-guided: libFuzzer + AddressSanitizer over every reader, seeded from a scratch copy of fuzz/corpus/.
libfuzzer: bootstrap
	$(SWIFT) build -c release --sanitize=fuzzer --sanitize=address --scratch-path .build-libfuzzer --product sonoseg-libfuzzer
	rm -rf .build-libfuzzer/corpus && mkdir -p .build-libfuzzer/corpus && cp fuzz/corpus/* .build-libfuzzer/corpus/
	.build-libfuzzer/release/sonoseg-libfuzzer -runs=100000 -timeout=10 -rss_limit_mb=4096 -max_len=65536 .build-libfuzzer/corpus

# The same under AddressSanitizer (our C decoders and Swift code instrumented; a separate build folder).
fuzz-asan: bootstrap
	$(SWIFT) build -c release --sanitize=address --scratch-path .build-asan --product sonoseg
	.build-asan/release/sonoseg fuzz --runs 200000

clean:
	rm -rf .build out

# Rebuild a shipped model from its recipes into out/rebuild/NAME (hours on 2 cores; resumable): make rebuild-default
rebuild-%: build
	scripts/rebuild-model $* $(BIN)
