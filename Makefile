# The two commands: `make run` and `make test`. Everything else is a step they call.
PY      ?= python3
VENV    := .venv
VPY     := $(VENV)/bin/python
HOST    ?= 127.0.0.1
PORT    ?= 5000
SHARED  ?= ../shared
STAMP   := $(VENV)/.stamp

.PHONY: setup run dev test lint unit conform bench clean static

setup: $(STAMP) graphviz static

# The virtualenv is rebuilt only when a requirements file changes.
$(STAMP): requirements.txt requirements-dev.txt
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

conform: setup
	$(VPY) $(SHARED)/tools/conform.py $(SHARED)/corpus/expected $(SHARED)/corpus

test: lint unit conform

bench: setup
	$(VPY) -m scripts.bench

clean:
	rm -rf $(VENV) static/vendor .pytest_cache
