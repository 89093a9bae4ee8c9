# orgquota: the two commands are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CLUSTER_DIR := .cluster
# A KUBECONFIG given by the caller means "use that cluster" (for `make test` too);
# otherwise `make run` starts the local control plane and uses its kubeconfig.
LOCAL_KUBECONFIG := $(CURDIR)/$(CLUSTER_DIR)/kubeconfig
RUN_KUBECONFIG := $(or $(KUBECONFIG),$(LOCAL_KUBECONFIG))
# The billing page's npm install stamp and build (rules at the end; here because prerequisites expand early).
UI_DEPS := ui/node_modules/.orgquota-installed
UI_SOURCES := $(shell find ui/src -type f 2>/dev/null) ui/index.html ui/vite.config.ts ui/tsconfig.json
UI_BUILT := ui/dist/index.html

.PHONY: venv run test unit e2e lint cluster-up cluster-down keycloak-up keycloak-down install-crds examples clean

venv: $(BIN)/orgquota
# orgquota and its development harness (hack/pyproject.toml: `localcluster`, not in the image), editable.
$(BIN)/orgquota: pyproject.toml hack/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]' -e ./hack
	touch $@

cluster-up: venv
ifeq ($(RUN_KUBECONFIG),$(LOCAL_KUBECONFIG))
	$(BIN)/localcluster up --dir $(CLUSTER_DIR)
else
	@echo "using the cluster of KUBECONFIG=$(KUBECONFIG)"
endif

cluster-down: venv
	$(BIN)/localcluster down --dir $(CLUSTER_DIR)

# Keycloak with the kube-dc realm and demo users (hack/keycloak/README.md); prints the issuer URL.
# First run: 15-30 s Maven fetch + 25-50 s `kc.sh build` into ~/.cache/orgquota/keycloak/; each start imports the realm anew.
keycloak-up: venv
	$(BIN)/localcluster keycloak up --dir $(CLUSTER_DIR)

keycloak-down: venv
	$(BIN)/localcluster keycloak down --dir $(CLUSTER_DIR)

install-crds: cluster-up
	$(BIN)/localcluster install-crds --kubeconfig $(RUN_KUBECONFIG)

examples: install-crds
	$$($(BIN)/localcluster binaries)/kubectl --kubeconfig $(RUN_KUBECONFIG) apply -f examples/organization/

# Everything in the foreground (hack/localcluster/stack.py): the control plane + platform slice (or the
# cluster of KUBECONFIG), the CRDs and examples, Keycloak, the operator, Prometheus (`make prometheus`;
# without it, no usage history) and the billing API serving the page; prints the addresses and demo
# users; Ctrl-C stops all. State and logs in .cluster/run/.
run: venv $(UI_BUILT)
	$(BIN)/localcluster run --dir $(CLUSTER_DIR)/run --apply examples/organization/ --apply examples/workload/

unit: venv
	$(BIN)/pytest tests/unit

e2e: venv $(UI_BUILT)
	$(BIN)/pytest tests/e2e

test: venv $(UI_BUILT)
	$(MAKE) ui-test
	$(BIN)/pytest tests

# Scale benchmark, not part of `make test`: a fresh local control plane per N (or the cluster of
# KUBECONFIG, one N only); results in bench/results/. See bench/README.md.
#   make bench BENCH_ARGS='--orgs 1000 5000 10000'
.PHONY: bench
bench: venv
	$(BIN)/python -m bench.run $(BENCH_ARGS)

# Billing API benchmark: p50/p99 and req/s of its busiest reads at 1/16/64 clients beside the framework's
# bound, apiserver requests per API request, RSS; prints figures (bench/billing_api.py).
#   make bench-api BENCH_API_ARGS='--orgs 1000 --seconds 5'
# With --history: /forecast and /usage-history over a real Prometheus holding N organizations' backfilled
# series, Prometheus's memory and disk (bench/history_api.py).
#   make bench-api BENCH_API_ARGS='--history --orgs 1000 10000 --days 30'
.PHONY: bench-api
bench-api: venv
	$(BIN)/python -m bench.billing_api $(BENCH_API_ARGS)

# Failover benchmark: two operator replicas with leader election, 20 SIGKILLs and 20 SIGTERMs of the leader
# at 1,000 organizations; p50/p95 of signal -> a plan change made then is in the HRQ (bench/failover.py).
#   make bench-failover BENCH_FAILOVER_ARGS='--orgs 10000 --kills 3 --stops 3 --fanout'
# Event stream benchmark: N open GET /events streams (one per organization), the time from an annotation
# change to its event at the client (p50/p95), apiserver requests per stream, API RSS (bench/live_streams.py).
#   make bench-live BENCH_LIVE_ARGS='--streams 500 --changes 100'
.PHONY: bench-live
bench-live: venv
	$(BIN)/python -m bench.live_streams $(BENCH_LIVE_ARGS)

.PHONY: bench-failover
bench-failover: venv
	$(BIN)/python -m bench.failover $(BENCH_FAILOVER_ARGS)

# Alerts benchmark: N organizations crossing 80 % within a minute; time to the last Event and e-mail,
# counted, operator CPU, beside a bare client's N Events (bench/alerts.py).
#   make bench-alerts BENCH_ALERTS_ARGS='--orgs 1000 --spread 60'
.PHONY: bench-alerts
bench-alerts: venv
	$(BIN)/python -m bench.alerts $(BENCH_ALERTS_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/hadolint Dockerfile
	$(MAKE) ui-lint
	$(MAKE) api-types-check

# Install and operate (deploy/): the Helm chart and the plain manifest rendered from it. Helm is built
# from hack/helm/ (pinned Go module) once per machine into ~/.cache/orgquota/helm/. `make test` lints,
# renders and installs the chart too (tests/e2e/deploy/); these are the same checks on their own.
HELM = $$($(BIN)/localcluster helm)
.PHONY: manifest chart kind-e2e

manifest: venv
	$(BIN)/localcluster manifest

chart: venv
	$(HELM) lint --strict deploy/chart/orgquota
	$(BIN)/localcluster manifest --check

# For users with Docker and kind (CI here has no Docker engine): a kind cluster with HNC v1.1.0 (its
# hrq variant, LimitRanges propagated), the
# e2e suite against it, then the image built and loaded, a real `helm install`, and the checks of the
# running release (tests/e2e/deploy/test_release.py). The suite runs before the release exists: it
# starts operators of its own, which must not meet one already running.
KIND ?= kind
DOCKER ?= docker
KIND_CLUSTER ?= orgquota-e2e
KIND_NODE_IMAGE ?=
KIND_KUBECONFIG := $(CURDIR)/$(CLUSTER_DIR)/kind-kubeconfig
KIND_IMAGE ?= orgquota:e2e
HNC_MANIFEST := https://github.com/kubernetes-sigs/hierarchical-namespaces/releases/download/v1.1.0/hrq.yaml
KIND_KUBECTL = $$($(BIN)/localcluster binaries)/kubectl --kubeconfig $(KIND_KUBECONFIG)

kind-e2e: venv
	@command -v $(KIND) >/dev/null && command -v $(DOCKER) >/dev/null || \
		{ echo "kind-e2e needs kind and docker on PATH"; exit 1; }
	mkdir -p $(CLUSTER_DIR)
	$(KIND) get clusters | grep -qx '$(KIND_CLUSTER)' || \
		$(KIND) create cluster --name $(KIND_CLUSTER) $(if $(KIND_NODE_IMAGE),--image $(KIND_NODE_IMAGE)) --wait 120s
	$(KIND) export kubeconfig --name $(KIND_CLUSTER) --kubeconfig $(KIND_KUBECONFIG)
	$(KIND_KUBECTL) apply -f $(HNC_MANIFEST)
	$(KIND_KUBECTL) -n hnc-system rollout status deployment/hnc-controller-manager --timeout=300s
	$(BIN)/localcluster hnc-config | $(KIND_KUBECTL) apply -f -
	$(KIND_KUBECTL) create namespace kube-dc --dry-run=client -o yaml | $(KIND_KUBECTL) apply -f -
	KUBECONFIG=$(KIND_KUBECONFIG) ORGQUOTA_E2E_ENFORCING=1 $(BIN)/pytest tests/e2e
	$(DOCKER) build -t $(KIND_IMAGE) .
	$(KIND) load docker-image $(KIND_IMAGE) --name $(KIND_CLUSTER)
	$(HELM) upgrade --install orgquota deploy/chart/orgquota --kubeconfig $(KIND_KUBECONFIG) \
		--namespace orgquota-system --create-namespace --wait --timeout 5m \
		--set image.repository=$(firstword $(subst :, ,$(KIND_IMAGE))) \
		--set image.tag=$(lastword $(subst :, ,$(KIND_IMAGE))) --set image.pullPolicy=Never
	KUBECONFIG=$(KIND_KUBECONFIG) ORGQUOTA_E2E_RELEASE=orgquota-system/orgquota \
		$(BIN)/pytest tests/e2e/deploy/test_release.py -v

clean: cluster-down keycloak-down
	rm -rf $(VENV) $(CLUSTER_DIR)

# The billing page (ui/, React + PatternFly, built with Vite into ui/dist, served by `orgquota api`).
# npm ci runs again only when node_modules is missing or the lock file changed.
.PHONY: ui ui-lint ui-test
$(UI_DEPS): ui/package-lock.json ui/package.json
	cd ui && npm ci --no-audit --no-fund
	touch $@

# `make run` and `make test` build the page only when a source changed since the last build.
$(UI_BUILT): $(UI_DEPS) $(UI_SOURCES)
	cd ui && npm run build

ui: $(UI_DEPS)
	cd ui && npm run build

ui-lint: $(UI_DEPS)
	cd ui && npm run lint

ui-test: $(UI_DEPS)
	cd ui && npm test

# The page's types, generated from the API's own OpenAPI document (ui/src/api/generated/): `make api-types`
# writes them after a change of the API's models; `make lint` fails while they differ from the API's.
API_TYPES := ui/src/api/generated
.PHONY: api-types api-types-check
api-types: venv $(UI_DEPS)
	$(BIN)/python -m orgquota.api.schema.export > $(API_TYPES)/openapi.json
	cd ui && npx openapi-typescript src/api/generated/openapi.json -o src/api/generated/schema.d.ts

api-types-check: venv $(UI_DEPS)
	@fresh=$$(mktemp -d) && trap 'rm -rf "$$fresh"' EXIT && \
	$(BIN)/python -m orgquota.api.schema.export > "$$fresh/openapi.json" && \
	(cd ui && npx openapi-typescript "$$fresh/openapi.json" -o "$$fresh/schema.d.ts" >/dev/null 2>&1) && \
	for f in openapi.json schema.d.ts; do \
		diff -q "$(API_TYPES)/$$f" "$$fresh/$$f" >/dev/null || \
		{ echo "$(API_TYPES)/$$f differs from the API's OpenAPI document: run make api-types"; exit 1; }; \
	done

# The browser of the page's e2e tests (tests/e2e/api/test_page.py): Debian's Chromium, driven by Playwright
# through executable_path; `playwright install` (a browser download) is never used. Needs root; idempotent.
.PHONY: browser
browser:
	.ci/apt-install chromium fonts-dejavu-core

# Prometheus (with promtool) and Alertmanager from Debian, for `make run` and the usage-history tests
# (docs/history.md); run as our own children, never as system services. Needs root; idempotent.
.PHONY: prometheus
prometheus:
	.ci/apt-install prometheus prometheus-alertmanager

# The image's Python dependencies, hash-pinned (docs/release.md): requirements.lock is pyproject.toml's
# runtime dependencies resolved for every Python and platform the project supports (the image's 3.13 and
# the 3.11 of the tests), requirements-build.lock its build backend. Versions already in a lock stay put;
# LOCK_ARGS=--upgrade moves them. tests/unit/packaging/test_lock.py fails while a lock is out of date.
LOCK_ARGS ?=
LOCK = $(BIN)/uv pip compile --universal --generate-hashes --quiet --custom-compile-command 'make lock' $(LOCK_ARGS)
.PHONY: lock
lock: venv
	$(LOCK) pyproject.toml -o requirements.lock
	$(BIN)/python -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"], sep="\n")' \
		| $(LOCK) - -o requirements-build.lock
