# wsgate: build, test and fuzz.
#
#   make test    installs what the tests need, then vets and runs every test
#                with the race detector (and the bench/ module's tests); the one
#                command for a fresh machine. Nothing skips under -race: the
#                engines' 10,000-connection test runs here on both engines
#                (about 1.2 GB and 15 s; the test and its child client each
#                hold 10,000 sockets)
#   make test-js runs the tests of wsgate.js (web/js) against a wsgate built
#                from this tree, after npm ci there, and type-checks it
#   make build   builds bin/wsgate, with its version (git describe
#                --always --dirty; VERSION=… to set another) embedded
#   make fuzz    runs each Fuzz target in the repository for FUZZTIME
#   make abuse   attacks a wsgate binary at full size (e2e/abuse; minutes)
#   make deps    installs the test peers: Debian's python3-websockets,
#                Node.js, npm, Chromium and nginx (when missing), e2e/node's
#                modules (ws, playwright-core) and nats-server (go install,
#                into $(go env GOPATH)/bin, when that version is missing)
#
# Installing needs root or sudo, and Debian's apt; it waits up to
# APT_LOCK_WAIT seconds (default 300) for another apt process to finish.

GO       ?= go
VERSION  ?= $(shell git describe --always --dirty 2>/dev/null)
FUZZTIME ?= 30s
# NATS_SERVER is the nats-server the cluster tests run (e2e/nats_test.go).
NATS_SERVER := v2.15.3
GOBIN_DIR   := $(shell d=$$($(GO) env GOBIN); [ -n "$$d" ] || d=$$($(GO) env GOPATH | cut -d: -f1)/bin; echo $$d)
NODE_DIR := e2e/node
# npm rewrites this file on every install, so it is newer than the lock
# exactly when node_modules matches it.
NODE_STAMP := $(NODE_DIR)/node_modules/.package-lock.json
# JS_DIR is wsgate.js's package; its stamp works as NODE_STAMP does.
JS_DIR   := web/js
JS_STAMP := $(JS_DIR)/node_modules/.package-lock.json
SUDO     := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# APT_LOCK_WAIT is how long, in seconds, make waits for another apt or dpkg
# process (an unattended upgrade, another install) to let go of its lock.
APT_LOCK_WAIT ?= 300
APT      := $(SUDO) apt-get -o DPkg::Lock::Timeout=$(APT_LOCK_WAIT)

SHELL       := /bin/bash
.SHELLFLAGS := -euo pipefail -c

export DEBIAN_FRONTEND := noninteractive

.PHONY: all build test test-js vet deps deps-apt deps-nats fuzz abuse clean

all: build

build:
	$(GO) build -ldflags "-X github.com/wsgate/wsgate/internal/cli.buildVersion=$(VERSION)" -o bin/wsgate ./cmd/wsgate

test: deps vet test-js
	WSGATE_REQUIRE_PEERS=1 $(GO) test -race -count=1 ./...
	cd bench && $(GO) vet ./... && $(GO) test -count=1 ./...

vet:
	$(GO) vet ./...

deps: deps-apt deps-nats $(NODE_STAMP)
	$(GO) mod download

# deps-nats installs nats-server $(NATS_SERVER) where go install puts
# binaries, unless that version is there already.
deps-nats:
	@if "$(GOBIN_DIR)/nats-server" --version 2>/dev/null | grep -qx "nats-server: $(NATS_SERVER)"; then :; else \
		echo "installing nats-server $(NATS_SERVER) into $(GOBIN_DIR)"; \
		$(GO) install github.com/nats-io/nats-server/v2@$(NATS_SERVER); \
	fi

# deps-apt installs only what is missing: apt-get update alone takes longer
# than the whole test run on a warm machine. When another apt or dpkg
# process holds a lock, it waits up to APT_LOCK_WAIT seconds: install
# through apt's DPkg::Lock::Timeout, update (whose lists lock apt 2.6 does
# not wait for) by trying again every 5 s.
deps-apt:
	@missing=""; \
	dpkg -s python3-websockets >/dev/null 2>&1 || missing="$$missing python3-websockets"; \
	command -v node >/dev/null 2>&1 || missing="$$missing nodejs"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing npm"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	[ -x /usr/sbin/nginx ] || missing="$$missing nginx"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		waited=0; \
		until out=$$($(APT) update -qq 2>&1); do \
			case $$out in \
			*"Could not get lock"*) ;; \
			*) echo "$$out" >&2; exit 1 ;; \
			esac; \
			if [ $$waited -ge $(APT_LOCK_WAIT) ]; then echo "$$out" >&2; exit 1; fi; \
			[ $$waited -gt 0 ] || echo "waiting up to $(APT_LOCK_WAIT)s for another apt process to finish"; \
			sleep 5; waited=$$((waited + 5)); \
		done; \
		$(APT) install -y -q --no-install-recommends $$missing; \
	fi

$(NODE_STAMP): $(NODE_DIR)/package.json $(NODE_DIR)/package-lock.json | deps-apt
	cd $(NODE_DIR) && npm ci --no-audit --no-fund
	touch $@

# test-js runs web/js's tests (node --test) against bin/wsgate (without
# WSGATE_BIN each test file builds its own), the NATS failover one on the
# nats-server deps-nats installs, and type-checks wsgate.js and its
# wsgate.d.ts (tsc).
test-js: build deps-nats $(JS_STAMP)
	cd $(JS_DIR) && WSGATE_BIN="$(CURDIR)/bin/wsgate" NATS_SERVER="$(GOBIN_DIR)/nats-server" npm test
	cd $(JS_DIR) && npm run check

$(JS_STAMP): $(JS_DIR)/package.json $(JS_DIR)/package-lock.json | deps-apt
	cd $(JS_DIR) && npm ci --no-audit --no-fund
	touch $@

# fuzz lists the Fuzz targets of every package in one pass (go test -list
# prints a package's names, then its "ok" line) and runs them one by one.
fuzz:
	@$(GO) test -list '^Fuzz' ./... | \
	awk '/^Fuzz/ { names = names " " $$1; next } /^ok/ { if (names != "") print $$2 names; names = "" }' | \
	while read -r pkg targets; do \
		for f in $$targets; do \
			echo "== $$pkg $$f ($(FUZZTIME))"; \
			$(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) $$pkg; \
		done; \
	done

# abuse attacks a wsgate binary from outside its process (e2e/abuse) at
# full size and prints a line per attack: peak RSS, open files, CPU and a
# probe's p99. WSGATE_ABUSE_BIN=path attacks another build (an older
# revision, for a before-and-after table).
abuse:
	WSGATE_ABUSE=1 $(GO) test -count=1 -v -timeout 20m ./e2e/abuse | grep -E 'ABUSE|^(---|ok|FAIL)'

clean:
	rm -rf bin
