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

.PHONY: venv run test unit e2e lint cluster-up cluster-down install-crds examples clean

venv: $(BIN)/orgquota
$(BIN)/orgquota: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

cluster-up: venv
ifeq ($(RUN_KUBECONFIG),$(LOCAL_KUBECONFIG))
	$(BIN)/localcluster up --dir $(CLUSTER_DIR)
else
	@echo "using the cluster of KUBECONFIG=$(KUBECONFIG)"
endif

cluster-down: venv
	$(BIN)/localcluster down --dir $(CLUSTER_DIR)

install-crds: cluster-up
	$(BIN)/localcluster install-crds --kubeconfig $(RUN_KUBECONFIG)

examples: install-crds
	$$($(BIN)/localcluster binaries)/kubectl --kubeconfig $(RUN_KUBECONFIG) apply -f examples/organization/

run: examples
	KUBECONFIG=$(RUN_KUBECONFIG) $(BIN)/orgquota run

unit: venv
	$(BIN)/pytest tests/unit

e2e: venv
	$(BIN)/pytest tests/e2e

test: venv
	$(BIN)/pytest tests

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean: cluster-down
	rm -rf $(VENV) $(CLUSTER_DIR)
