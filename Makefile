# fmnist: a reproducible Fashion-MNIST CNN benchmark.  `make help` lists the targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DATA_DIR := /usr/share/datasets/fashion-mnist
PROFILE ?= full
# Whether `make reproduce` publishes: rewrites the committed notebooks and figures.
PUBLISH := $(filter full,$(PROFILE))

$(BIN)/fmnist: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

.PHONY: setup
setup: $(BIN)/fmnist data ## Create .venv, install the package (editable) and get the dataset

.PHONY: data
data: ## Get Fashion-MNIST: the Debian package when root, else the loader's fallback
	@if [ -f $(DATA_DIR)/train-images-idx3-ubyte.gz ]; then \
		echo "dataset: $(DATA_DIR)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist; \
	else \
		$(BIN)/python -c "from fmnist_lib.data import load_fashion_mnist; load_fashion_mnist()"; \
	fi

# Keep a suite run's record (time per notebook, machine, commit) as
# results/suite/PROFILE.json, with paths relative to the repository, never this machine's.
KEEP_SUITE_RECORD = $(BIN)/python -c "import sys; from fmnist_lib.records import relative_paths; \
	from fmnist_lib.runs import read_json, write_json; \
	write_json(f'results/suite/{sys.argv[1]}.json', \
	relative_paths(read_json(f'runs/notebooks/{sys.argv[1]}/executed.json')))"

.PHONY: reproduce
reproduce: setup ## Run the notebook suite: PROFILE=full (default) rewrites notebooks/ and figures/; smoke|quick write only under runs/notebooks/PROFILE/
	@# Only the full profile publishes (--in-place): the outputs, figures and suite
	@# record that the README shows. A first look (smoke, quick) changes no committed file.
	@# The folders are this checkout's (where make runs), whichever fmnist is installed.
	$(BIN)/fmnist run-notebooks --profile $(PROFILE) $(if $(PUBLISH),--in-place) \
		--notebooks-dir notebooks --out runs/notebooks/$(PROFILE)
	@# The run's record, for the README
	if [ -n "$(PUBLISH)" ]; then \
		$(KEEP_SUITE_RECORD) $(PROFILE); \
	fi

.PHONY: time-quick
time-quick: setup ## Time the quick profile end to end (every notebook, under runs/) for the README
	@# Executes all notebooks (--force) so the time is the whole first look; its record
	@# names the machine and commit. Only results/suite/quick.json changes.
	$(BIN)/fmnist run-notebooks --profile quick --force \
		--notebooks-dir notebooks --out runs/notebooks/quick
	$(KEEP_SUITE_RECORD) quick
	$(BIN)/fmnist results readme

.PHONY: train
train: setup ## Train the VGG model for the default 10 epochs and print its test metrics
	$(BIN)/fmnist train --arch vgg

.PHONY: lint
lint: $(BIN)/fmnist ## ruff lint and format check, and the import contracts (pyproject.toml)
	$(BIN)/ruff check fmnist_lib tests notebooks
	$(BIN)/ruff format --check fmnist_lib tests notebooks
	$(BIN)/lint-imports

.PHONY: test
test: setup lint ## Set up, lint, then the whole test suite (unit, CLI, notebooks, nbval)
	$(BIN)/pytest tests

.PHONY: bench
bench: setup ## Side-by-side benchmark against the original's pipeline (tf-keras, installed here)
	@# --no-deps: tf-keras requires the full `tensorflow` wheel, which would overwrite tensorflow-cpu
	$(BIN)/pip install --quiet --no-deps "tf-keras==$$($(BIN)/python -c 'import tensorflow as tf; print(tf.__version__)')"
	$(BIN)/fmnist bench

.PHONY: reference
reference: setup ## Train and record every reproduction and improvement experiment (hours)
	$(BIN)/fmnist experiment run --reference

.PHONY: lab
lab: setup ## Open JupyterLab on the notebooks (their figures go to runs/figures/; git checkout -- notebooks restores the outputs)
	$(BIN)/jupyter lab notebooks/

.PHONY: clean
clean: ## Remove caches (keeps .venv and runs/)
	rm -rf .pytest_cache .ruff_cache build *.egg-info
	find . -name __pycache__ -prune -exec rm -rf {} +

.PHONY: help
help: ## This list
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}'
