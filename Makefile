# keras_lk: the two set-up commands of the README.
#   make demo   set up .venv and run the main job on the built-in data
#   make test   set up .venv and run the test suite (RUN_SLOW=1 adds the slow tests;
#               PYTEST_ARGS passes more options to pytest, e.g. --durations=25)
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# pytest-xdist workers: 2 ran the suite about twice as fast as one process on the
# project's 2-core machines (figures: the closing note of issue 30).
TEST_WORKERS ?= 2

.PHONY: demo test lint bench notebooks notebooks-smoke clean

$(STAMP): setup.cfg pyproject.toml
	@echo "keras_lk: installing into $(VENV) (first run only, a few minutes)"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade pip
	@$(PY) -m pip install --quiet -e ".[dev,jax]"
	@touch $(STAMP)

demo: $(STAMP)
	@$(PY) -m keras_lk.demo

test: $(STAMP)
	$(PY) -m pytest -q -n $(TEST_WORKERS) $(if $(RUN_SLOW),,-m "not slow") $(PYTEST_ARGS) tests

lint: $(STAMP)
	$(PY) -m ruff check keras_lk tests benchmarks recipes notebooks

bench: $(STAMP)
	$(PY) benchmarks/global_conv.py

# The tutorials of notebooks/, executed into outputs/notebooks/ (a few CPU minutes each).
notebooks: $(STAMP)
	$(PY) notebooks/run.py

# The same with tiny settings (CI): about a minute each.
notebooks-smoke: $(STAMP)
	$(PY) notebooks/run.py --smoke

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
