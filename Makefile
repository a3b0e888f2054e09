# edgemq — the two commands a newcomer needs are `make run` and `make test`.
GO        ?= go
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null)
LDFLAGS   := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
PKGS      := ./...
FUZZTIME  ?= 30s
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.7.0

.PHONY: all build run test test-race bench fuzz lint cross clean

all: build

## build: the edgemq binary for this machine
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o edgemq ./cmd/edgemq

## run: the gateway on its embedded defaults (MQTT on 127.0.0.1:1883, data in ./data)
run:
	$(GO) run ./cmd/edgemq run

## test: lint, every test with the race detector, benchmarks once so they keep working,
##       a 32-bit run, the storage tests as ARMv7 binaries under qemu-arm-static
test: lint
	$(GO) test -race -count=1 -timeout 10m $(PKGS)
	$(GO) test -run '^$$' -bench . -benchtime 1x $(PKGS)
	GOARCH=386 CGO_ENABLED=0 $(GO) test -count=1 -timeout 10m ./broker/... ./internal/... ./cmd/edgemq/ ./storefwd/
	bash scripts/test-arm.sh
	$(MAKE) cross

## bench: edgemq and Mosquitto side by side on loopback (needs the mosquitto package)
bench: build
	$(GO) run ./cmd/mqttbench compare --edgemq ./edgemq --rounds 3 --duration 5s
	$(GO) test -run '^$$' -bench . -benchmem ./broker/... ./internal/... ./storefwd/

## fuzz: every fuzz target for FUZZTIME each
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

## lint: go vet, staticcheck, gofmt
lint:
	$(GO) vet $(PKGS)
	$(GO) run $(STATICCHECK) $(PKGS)
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

## cross: static binaries for ARMv7, ARM64 and amd64 into dist/
cross:
	mkdir -p dist
	CGO_ENABLED=0 GOOS=linux GOARCH=arm GOARM=7 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o dist/edgemq-linux-armv7 ./cmd/edgemq
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o dist/edgemq-linux-arm64 ./cmd/edgemq
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o dist/edgemq-linux-amd64 ./cmd/edgemq

clean:
	rm -rf dist edgemq
