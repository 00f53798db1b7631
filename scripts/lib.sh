# Shared by scripts/serve, scripts/test and scripts/bench-*: installs what the build and the
# tests need, idempotently, so that a fresh Debian machine needs nothing done by hand.
# Sourced, not executed.

set -euo pipefail

IDGATE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Build output lives outside the clone so a fresh clone reuses an earlier build.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/idgate-target}"
# Model files and tool environments unpacked from registry packages.
export IDGATE_CACHE="${IDGATE_CACHE:-$HOME/.cache/idgate}"

say() { printf '==> %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Debian packages the build links against or the tests call. Only missing ones are
# installed, so a prepared machine does not touch the network.
APT_PACKAGES=(build-essential pkg-config ca-certificates curl fonts-ocr-b fonts-dejavu-core
    libdlib-dev libopenblas-dev liblapack-dev libheif-dev libheif-examples libssl-dev)

ensure_apt() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        say "installing Debian packages: ${missing[*]}"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
    fi
}

ensure_rust() {
    if ! command -v cargo >/dev/null 2>&1; then
        if [ -x "$HOME/.cargo/bin/cargo" ]; then
            export PATH="$HOME/.cargo/bin:$PATH"
        else
            say "installing the Rust toolchain (rustup, stable)"
            curl -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c rustfmt,clippy
            export PATH="$HOME/.cargo/bin:$PATH"
        fi
    fi
}

# A Python virtual environment under the cache, for tools installed from PyPI
# (model wheels are unpacked from it; the benchmark's Python baseline runs in it).
ensure_venv() {
    local venv="$IDGATE_CACHE/venv"
    if [ ! -x "$venv/bin/python" ]; then
        mkdir -p "$IDGATE_CACHE"
        command -v python3 >/dev/null 2>&1 && python3 -m venv --help >/dev/null 2>&1 ||
            ensure_apt python3 python3-venv
        python3 -m venv "$venv"
    fi
    if [ "$#" -gt 0 ]; then
        "$venv/bin/python" -m pip install -q --disable-pip-version-check "$@"
    fi
    echo "$venv"
}

# OCR networks (PP-OCRv4 detection and recognition, Apache-2.0) from the PyPI wheel
# rapidocr-onnxruntime 1.4.4, unpacked once into $IDGATE_MODELS_DIR. Only the .onnx files are
# kept; the wheel's Python code is not used.
export IDGATE_MODELS_DIR="${IDGATE_MODELS_DIR:-$IDGATE_CACHE/models}"
ensure_models() {
    local want=(ch_PP-OCRv4_det_infer.onnx ch_PP-OCRv4_rec_infer.onnx) missing=0
    for f in "${want[@]}"; do [ -s "$IDGATE_MODELS_DIR/$f" ] || missing=1; done
    [ "$missing" -eq 0 ] && return 0
    say "unpacking OCR models from rapidocr-onnxruntime==1.4.4 (PyPI)"
    local venv tmp
    venv="$(ensure_venv)"
    tmp="$(mktemp -d)"
    "$venv/bin/python" -m pip download -q --disable-pip-version-check --no-deps \
        rapidocr-onnxruntime==1.4.4 -d "$tmp"
    mkdir -p "$IDGATE_MODELS_DIR"
    "$venv/bin/python" - "$tmp"/rapidocr_onnxruntime-1.4.4-*.whl "$IDGATE_MODELS_DIR" "${want[@]}" <<'PY'
import sys, zipfile
wheel, dest, names = sys.argv[1], sys.argv[2], sys.argv[3:]
with zipfile.ZipFile(wheel) as z:
    for name in names:
        with z.open(f"rapidocr_onnxruntime/models/{name}") as src, open(f"{dest}/{name}", "wb") as out:
            out.write(src.read())
PY
    rm -rf "$tmp"
}

# Face networks from the PyPI sdist face-recognition-models 0.3.0 (CC0): dlib's ResNet face
# descriptor and the 5-point landmark predictor. The sdist's 68-point predictor is not
# unpacked: its training data (iBUG 300-W) is licensed for non-commercial use only.
ensure_face_models() {
    local want=(dlib_face_recognition_resnet_model_v1.dat shape_predictor_5_face_landmarks.dat)
    local missing=0
    for f in "${want[@]}"; do [ -s "$IDGATE_MODELS_DIR/$f" ] || missing=1; done
    [ "$missing" -eq 0 ] && return 0
    say "unpacking face models from face-recognition-models==0.3.0 (PyPI)"
    local venv tmp
    venv="$(ensure_venv)"
    tmp="$(mktemp -d)"
    "$venv/bin/python" -m pip download -q --disable-pip-version-check --no-deps \
        face-recognition-models==0.3.0 -d "$tmp"
    mkdir -p "$IDGATE_MODELS_DIR"
    local f
    for f in "${want[@]}"; do
        tar -xzf "$tmp"/face_recognition_models-0.3.0.tar.gz -O \
            "face_recognition_models-0.3.0/face_recognition_models/models/$f" >"$IDGATE_MODELS_DIR/$f.part"
        mv "$IDGATE_MODELS_DIR/$f.part" "$IDGATE_MODELS_DIR/$f"
    done
    rm -rf "$tmp"
}

# The browser tests' Chromium and its WebDriver (the registries serve no browser builds, so
# Debian's), a font with Chinese characters for the zh-Hans pages, and the npm packages the
# tests inject into the page.
BROWSER_PACKAGES=(chromium chromium-driver fonts-wqy-microhei)
# axe-core (accessibility rules the browser tests run in the page), from the npm registry at
# the version the lockfile pins.
ensure_browser() {
    ensure_apt "${BROWSER_PACKAGES[@]}"
    command -v npm >/dev/null 2>&1 || ensure_apt nodejs npm
    local dir="$IDGATE_ROOT/crates/idgate-server/tests/browser"
    if [ ! -f "$dir/node_modules/axe-core/axe.min.js" ] ||
        [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
        say "installing the browser tests' npm packages (package-lock.json)"
        (cd "$dir" && npm ci --no-audit --no-fund --silent)
    fi
}

ensure_build_deps() {
    ensure_apt "${APT_PACKAGES[@]}"
    ensure_rust
}
