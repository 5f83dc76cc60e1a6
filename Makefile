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

# MNIST from ../shared/mnist (or downloaded, if MNIST=) as Kaggle-format CSVs in data/.
MNIST ?= ../shared/mnist
data: $(STAMP)
	$(BIN)/python -m deeplearning data mnist $(if $(MNIST),--source $(MNIST)) --out data/

train: $(STAMP)
	$(BIN)/python -m deeplearning train --data data/

evaluate: $(STAMP)
	$(BIN)/python -m deeplearning evaluate --model model/mnist_cnn.keras --mnist $(MNIST)

# Real pen digits (deeplearning/unipen.py's format), for the real-handwriting replay.
UNIPEN ?= ../shared/unipen
replay: $(STAMP)
	$(BIN)/python -m deeplearning replay --unipen $(UNIPEN)
	$(BIN)/python -m deeplearning replay --mnist $(MNIST)

# The quick benchmarks (a few minutes); time_to_accuracy.py is run on its own (see RESULTS.md).
benchmark: $(STAMP)
	$(BIN)/python benchmarks/recognition_latency.py
	$(BIN)/python benchmarks/app_frame_time.py
	$(BIN)/python benchmarks/training_throughput.py
	$(BIN)/python benchmarks/inference_throughput.py

# Run the tutorial notebook on data/ headless and save it with its outputs (the committed copy).
notebook: $(STAMP)
	$(BIN)/python -m deeplearning notebook --force
