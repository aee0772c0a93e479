# The two commands: `make run` and `make test`. Everything else is a step they call.
# Debian's own Python 3.11 when there is one, else python3 on PATH. Debian builds it with
# profile-guided and link-time optimisation: the analysis runs about 40% faster on it than on an
# interpreter built with plain ./configure (pyenv's default). `make clean` to rebuild a .venv made
# with another one.
PY      ?= $(firstword $(wildcard /usr/bin/python3.11) python3)
VENV    := .venv
VPY     := $(VENV)/bin/python
HOST    ?= 127.0.0.1
PORT    ?= 5000
SHARED  ?= ../shared
CLUSTER_PORT ?= 8080
STAMP   := $(VENV)/.stamp

.PHONY: setup run dev test lint unit conform bench clean static cluster-up cluster-down cluster-status

setup: $(STAMP) graphviz static

# The virtualenv is rebuilt only when a requirements file changes.
$(STAMP): requirements.txt requirements-dev.txt
	@case "$(PY)" in /usr/bin/*) scripts/ensure-system-packages python3-venv ;; esac
	test -x $(VPY) || $(PY) -m venv $(VENV)
	$(VPY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

graphviz:
	@scripts/ensure-system-packages graphviz

static:
	@scripts/ensure-static

run: setup
	HOST=$(HOST) PORT=$(PORT) $(VENV)/bin/gunicorn --config webapp/gunicorn_conf.py "webapp.web:create_app()"

dev: setup
	FLASK_DEBUG=1 $(VPY) -m flask --app "webapp.web:create_app()" run --host $(HOST) --port $(PORT)

lint: setup
	$(VENV)/bin/ruff check webapp tests scripts
	$(VENV)/bin/ruff format --check webapp tests

unit: setup
	$(VPY) -m pytest -q

# BuildKit conformance on the vendored corpus (tests/test_conformance.py) is part of `unit`, so
# `make test` needs nothing outside this checkout. `make conform` runs the team's black-box tool
# on the shared corpus instead when ../shared sits beside the checkout.
conform: setup
	@if [ -f $(SHARED)/tools/conform.py ]; then \
		$(VPY) $(SHARED)/tools/conform.py --strict-lint $(SHARED)/corpus/buildkit $(SHARED)/corpus; \
	else \
		echo "$(SHARED) not found: running the vendored conformance test"; \
		$(VPY) -m pytest -q tests/test_conformance.py; \
	fi

test: lint unit

bench: setup
	$(VPY) -m scripts.bench

# A local cluster from Debian's packages (postgresql, redis-server, nginx): nginx on
# 127.0.0.1:$(CLUSTER_PORT) in front of two app instances; all state in .cluster/ (docs/deploy.md).
cluster-up: setup
	@scripts/ensure-system-packages postgresql redis-server nginx
	$(VPY) -m scripts.cluster up --port $(CLUSTER_PORT)

cluster-down:
	$(VPY) -m scripts.cluster down

cluster-status:
	$(VPY) -m scripts.cluster status

clean:
	rm -rf $(VENV) static/vendor .pytest_cache
