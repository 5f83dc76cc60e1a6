# Two commands set everything up: `make run` starts the app, `make test` runs the tests.
# Both create (or reuse) .venv from the pinned requirements.txt.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format data train evaluate replay benchmark notebook

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install -r requirements.txt
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python app.py

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# MNIST: a folder of its IDX files, ../shared/mnist when it is there (or MNIST=PATH). Without
# one, `make data` downloads MNIST, and evaluate and replay read the CSVs it writes into data/.
MNIST ?= $(wildcard ../shared/mnist)
TEST_SET = $(or $(MNIST),data)
# data/'s CSVs are made for a target that reads them, when they are not there yet.
NEEDS_TEST_CSVS = $(if $(MNIST),,data/test_labels.csv)
DATA_COMMAND = $(BIN)/python -m deeplearning data mnist$(if $(MNIST), --source $(MNIST)) --out data/

data: $(STAMP)
	$(DATA_COMMAND)

data/train.csv data/test_labels.csv: | $(STAMP)
	$(DATA_COMMAND)

# A model of your own: model/mnist_cnn_trained.keras, with its JSON record and the ONNX export
# the app reads it through (python app.py --model model/mnist_cnn_trained.keras). The shipped
# model/mnist_cnn.keras is never replaced. FORCE=1 replaces the model an earlier run made.
SHIPPED := model/mnist_cnn.keras
TRAINED := model/mnist_cnn_trained.keras
train: $(STAMP) data/train.csv
	$(BIN)/python -m deeplearning train --data data/$(if $(FORCE), --force)

# The model you trained when there is one, else the shipped one (or MODEL=PATH).
MODEL ?= $(or $(wildcard $(TRAINED)),$(SHIPPED))
WHOSE = $(if $(filter $(TRAINED),$(MODEL)),yours from make train,$(if $(filter $(SHIPPED),$(MODEL)),the shipped model; make train makes your own,MODEL=$(MODEL)))
evaluate: $(STAMP) $(NEEDS_TEST_CSVS)
	@echo "evaluating $(MODEL) ($(WHOSE)) on MNIST's test images in $(TEST_SET)"
	$(BIN)/python -m deeplearning evaluate --model $(MODEL) --mnist $(TEST_SET)

# Real pen digits (deeplearning/pen_data/unipen.py's format), for the real-handwriting replay:
# ../shared/unipen when it is there (or UNIPEN=PATH). Both replays run whatever the first
# does; the target fails at the end if either failed or had no data.
UNIPEN ?= $(wildcard ../shared/unipen)
REPLAY = $(BIN)/python -m deeplearning replay
replay: $(STAMP) $(NEEDS_TEST_CSVS)
	@status=0; \
	if [ -n "$(UNIPEN)" ]; then \
		echo "$(REPLAY) --unipen $(UNIPEN)"; $(REPLAY) --unipen $(UNIPEN) || status=1; \
	else \
		echo "error: no pen digits to replay (no ../shared/unipen): make replay UNIPEN=PATH" >&2; \
		status=1; \
	fi; \
	echo "$(REPLAY) --mnist $(TEST_SET)"; $(REPLAY) --mnist $(TEST_SET) || status=1; \
	exit $$status

# The quick benchmarks (a few minutes); time_to_accuracy.py is run on its own (see RESULTS.md).
benchmark: $(STAMP)
	$(BIN)/python benchmarks/recognition_latency.py
	$(BIN)/python benchmarks/app_frame_time.py
	$(BIN)/python benchmarks/training_throughput.py
	$(BIN)/python benchmarks/inference_throughput.py

# Run the tutorial notebook on data/ headless and save it with its outputs (the committed copy).
notebook: $(STAMP)
	$(BIN)/python -m deeplearning notebook --force
