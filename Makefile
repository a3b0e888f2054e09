# edgemq — the two commands a newcomer needs are `make run` and `make test`.
GO        ?= go
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null)
LDFLAGS   := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
PKGS      := ./...
FUZZTIME  ?= 30s
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.7.0
# make install: DESTDIR is a staging root (packaging, tests); PREFIX the
# prefix on the device; BIN another binary to install instead of building
# ./edgemq (e.g. BIN=dist/edgemq-linux-arm64).
DESTDIR   ?=
PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
UNITDIR   ?= /etc/systemd/system
CONFDIR   ?= /etc/edgemq
BIN       ?=
# make cross fails when a binary in dist/ is larger than this (bytes)
MAX_BINARY_SIZE ?= 16500000

.PHONY: all build run test test-race bench fuzz lint cross install clean

all: build

## build: the edgemq binary for this machine
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o edgemq ./cmd/edgemq

## run: the gateway on its embedded defaults (MQTT on 127.0.0.1:1883, data in ./data)
run:
	$(GO) run ./cmd/edgemq run

## test: lint, every test with the race detector, benchmarks once so they keep working,
##       a 32-bit run, the storage and broker tests as ARMv7 binaries under
##       qemu-arm-static, the cross builds, and the ARMv6, ARMv7 and ARM64 gateways
##       end to end under qemu
test: lint
	$(GO) test -race -count=1 -timeout 10m $(PKGS)
	$(GO) test -run '^$$' -bench . -benchtime 1x $(PKGS)
	GOARCH=386 CGO_ENABLED=0 $(GO) test -short -count=1 -timeout 10m ./broker/... ./internal/... ./cmd/edgemq/ ./storefwd/
	bash scripts/test-arm.sh
	$(MAKE) cross
	bash scripts/test-arm-e2e.sh

## bench: edgemq and Mosquitto side by side on loopback (needs the mosquitto package)
bench: build
	$(GO) run ./cmd/mqttbench compare --edgemq ./edgemq --rounds 3 --duration 5s
	$(GO) run ./cmd/mqttbench bridge --edgemq ./edgemq --rounds 3 --duration 10s
	$(GO) test -run '^$$' -bench . -benchmem ./broker/... ./internal/...
	# -cpu 1 too: the gateway runs on one P until it is busy (internal/cpugov)
	$(GO) test -run '^$$' -bench . -benchmem -cpu 1,2 ./storefwd/

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

## cross: static binaries for ARMv6 (Pi Zero/1), ARMv7, ARM64 and amd64 into dist/,
##        then their sizes (each must stay under MAX_BINARY_SIZE)
cross:
	mkdir -p dist
	CGO_ENABLED=0 GOOS=linux GOARCH=arm GOARM=6 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o dist/edgemq-linux-armv6 ./cmd/edgemq
	CGO_ENABLED=0 GOOS=linux GOARCH=arm GOARM=7 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o dist/edgemq-linux-armv7 ./cmd/edgemq
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o dist/edgemq-linux-arm64 ./cmd/edgemq
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o dist/edgemq-linux-amd64 ./cmd/edgemq
	@status=0; for f in dist/edgemq-linux-armv6 dist/edgemq-linux-armv7 dist/edgemq-linux-arm64 dist/edgemq-linux-amd64; do \
	  n=$$(wc -c <$$f); \
	  printf '%-26s %9d bytes  %5s MB\n' "$$f" "$$n" "$$(awk -v n=$$n 'BEGIN{printf "%.1f", n/1e6}')"; \
	  if [ "$$n" -gt $(MAX_BINARY_SIZE) ]; then echo "$$f: larger than $(MAX_BINARY_SIZE) bytes" >&2; status=1; fi; \
	done; exit $$status

## install: ./edgemq (built) or BIN into $(DESTDIR)$(BINDIR), the systemd unit into
##          $(DESTDIR)$(UNITDIR), the starter systemd/edgemq.yaml as
##          $(DESTDIR)$(CONFDIR)/edgemq.yaml unless that file exists, and
##          edgemq.example.yaml beside it. scripts/install.sh does this on a device from a
##          dist/ binary, with the system user and systemctl.
install: $(if $(BIN),,build)
	install -d -m 0755 '$(DESTDIR)$(BINDIR)' '$(DESTDIR)$(UNITDIR)' '$(DESTDIR)$(CONFDIR)'
	install -m 0755 '$(or $(BIN),edgemq)' '$(DESTDIR)$(BINDIR)/edgemq'
	sed -e 's|/usr/local/bin/edgemq|$(BINDIR)/edgemq|g' -e 's|/etc/edgemq/edgemq.yaml|$(CONFDIR)/edgemq.yaml|g' \
	  systemd/edgemq.service >'$(DESTDIR)$(UNITDIR)/edgemq.service.tmp'
	chmod 0644 '$(DESTDIR)$(UNITDIR)/edgemq.service.tmp'
	mv -f '$(DESTDIR)$(UNITDIR)/edgemq.service.tmp' '$(DESTDIR)$(UNITDIR)/edgemq.service'
	install -m 0644 edgemq.example.yaml '$(DESTDIR)$(CONFDIR)/edgemq.example.yaml'
	@if [ -e '$(DESTDIR)$(CONFDIR)/edgemq.yaml' ]; then \
	  echo "kept the existing $(DESTDIR)$(CONFDIR)/edgemq.yaml"; \
	else \
	  echo "install -m 0644 systemd/edgemq.yaml $(DESTDIR)$(CONFDIR)/edgemq.yaml"; \
	  install -m 0644 systemd/edgemq.yaml '$(DESTDIR)$(CONFDIR)/edgemq.yaml'; \
	fi
	@echo "next: create the system user (scripts/install.sh does this):"
	@echo "  useradd --system --no-create-home --home-dir /var/lib/edgemq --shell /usr/sbin/nologin edgemq"
	@echo "  usermod -a -G dialout,gpio,i2c edgemq   # those of these groups that exist"
	@echo "then edit $(CONFDIR)/edgemq.yaml, check it with edgemq check-config, and:"
	@echo "  systemctl daemon-reload && systemctl enable --now edgemq"

clean:
	rm -rf dist edgemq

# make image: the SD card image for Raspberry Pi (image/build.sh; needs root,
# mmdebstrap, qemu-user-static with binfmt, fdisk, dosfstools, mtools,
# e2fsprogs, cpio). IMAGE_ARCH arm64 (Pi 3, 4, Zero 2 W) or armhf; the base
# root filesystem is cached in IMAGE_CACHE (IMAGE_BASE_REFRESH=1 rebuilds it).
IMAGE_ARCH  ?= arm64
IMAGE_CACHE ?= dist/image-cache
IMAGE_BIN   ?= dist/edgemq-linux-$(if $(filter armhf,$(IMAGE_ARCH)),armv7,$(IMAGE_ARCH))

.PHONY: image image-test

## image: dist/edgemq-VERSION-IMAGE_ARCH.img, a Debian SD card image with the gateway
##        (see docs/image.md); prints its size and SHA-256. Builds its binary
##        (dist/edgemq-linux-arm64 or -armv7) as make cross does.
image:
	mkdir -p dist
	CGO_ENABLED=0 GOOS=linux $(if $(filter armhf,$(IMAGE_ARCH)),GOARCH=arm GOARM=7,GOARCH=$(IMAGE_ARCH)) \
	  $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o '$(IMAGE_BIN)' ./cmd/edgemq
	IMAGE_ARCH='$(IMAGE_ARCH)' VERSION='$(VERSION)' BIN='$(IMAGE_BIN)' IMAGE_CACHE='$(IMAGE_CACHE)' \
	  bash image/build.sh

## image-test: make image (arm64), then boot it under qemu-system-aarch64 and check the
##             gateway in it over MQTT and SSH (image/test.sh)
image-test:
	$(MAKE) image IMAGE_ARCH=arm64
	bash image/test.sh 'dist/edgemq-$(VERSION)-arm64.img'
