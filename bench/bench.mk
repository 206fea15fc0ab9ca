# ASR benchmark targets; `include bench/bench.mk` from the main Makefile.
#
#   make .venv-fw/.done   separate venv with faster-whisper 1.2.1 (CPU), the speed/accuracy reference
#   make bench            ours vs faster-whisper side by side (extra flags: make bench BENCH_ARGS="--subset 5")
#
# faster-whisper lives in its own venv because installing it with its dependencies into .venv would
# replace onnxruntime-gpu with the CPU onnxruntime wheel.

BENCH_PYTHON ?= python3
BENCH_MAIN_VENV ?= .venv/.done
BENCH_ARGS ?=
FW_VENV := .venv-fw
FW_VERSION := 1.2.1

$(FW_VENV)/.done: bench/requirements-fw.txt bench/bench.mk
	rm -rf $(FW_VENV)
	$(BENCH_PYTHON) -m venv $(FW_VENV)
	$(FW_VENV)/bin/python -m pip install --no-deps faster-whisper==$(FW_VERSION)
	$(FW_VENV)/bin/python -m pip install -r bench/requirements-fw.txt
	$(FW_VENV)/bin/python -c "import faster_whisper, ctranslate2, onnxruntime, av, tokenizers"
	$(FW_VENV)/bin/python bench/fw_model.py
	touch $@

.PHONY: bench
bench: $(FW_VENV)/.done $(BENCH_MAIN_VENV)
	.venv/bin/python bench/asr.py $(BENCH_ARGS)
