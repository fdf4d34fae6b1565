# The two commands: `make run` (build the browser game, start the server on http://127.0.0.1:8080)
# and `make test` (every test: lint, Rust unit and integration tests, the client's tests, the
# browser end-to-end test). Everything else here is what those two need.

CARGO ?= cargo
NPM ?= npm
CLIENT := game-client

.PHONY: run cluster test lint rust-test client client-test e2e bench fuzz autobahn clean

run: client
	$(CARGO) run --release --bin tickrelay -- --config config/default.toml

# Three nodes on 127.0.0.1:8081-8083 sharing a throwaway redis-server on :6390 (README "Running a
# cluster"); Ctrl-C stops them all. REDIS_PORT=, BASE_PORT= to move them.
cluster: client
	CARGO="$(CARGO)" bash scripts/cluster.sh

test: lint rust-test client-test e2e

lint: $(CLIENT)/node_modules/.installed
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings
	cd $(CLIENT) && $(NPM) run typecheck

rust-test:
	$(CARGO) test --all-targets

# npm ci only when the lockfile changed since the last install.
$(CLIENT)/node_modules/.installed: $(CLIENT)/package-lock.json
	cd $(CLIENT) && $(NPM) ci --no-audit --no-fund
	touch $@

client: $(CLIENT)/node_modules/.installed
	cd $(CLIENT) && $(NPM) run build

client-test: $(CLIENT)/node_modules/.installed
	cd $(CLIENT) && $(NPM) test

# Headless Chromium against the real server (skips loudly without Chromium unless REQUIRE_BROWSER=1).
e2e: client
	$(CARGO) build --bin tickrelay --bin tickrelay-bots
	cd $(CLIENT) && $(NPM) run e2e

bench:
	$(CARGO) bench

# Bounded libFuzzer runs of the decoders (docs/conformance.md); FUZZ_TIME=seconds per target.
fuzz:
	bash scripts/fuzz.sh

# The Autobahn WebSocket cases against the /echo route.
autobahn:
	bash scripts/autobahn.sh

clean:
	$(CARGO) clean
	rm -rf $(CLIENT)/dist $(CLIENT)/node_modules
