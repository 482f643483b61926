#!/usr/bin/env bash
# Fetches the OCR models that `nianbao` built with `--features ocr` reads tables from
# pictures with: PaddleOCR's PP-OCRv6 small detection and recognition models, as
# ONNX files inside the `rapidocr` wheel on PyPI (Apache-2.0). The wheel and both
# models are checked against the SHA-256 digests below before anything is kept.
#   scripts/ocr-models.sh [DIR]      (default: models/ocr; config.toml [ocr] models)
# Needs python3 with pip, and the network once; crawls never download anything.
set -euo pipefail
DIR=${1:-models/ocr}
WHEEL=rapidocr-3.10.0-py3-none-any.whl
WHEEL_SHA256=2fc34e26cd0f48514804a94f8832283039c7334076bff60768b1fed9ad068050
MODELS=(
  "PP-OCRv6_det_small.onnx 090f04abcd9d9a7498bc4ebf677e4cb9bdce1fe4197ddb7e529f1ef44e1ff94f"
  "PP-OCRv6_rec_small.onnx 6f327246b50388f3c176ae304bd95767ea6dc0c9ae92153ef8cbe210b3c14884"
)
have() { [ -f "$DIR/$1" ] && echo "$2  $DIR/$1" | sha256sum --check --status; }
if have ${MODELS[0]} && have ${MODELS[1]}; then
  echo "OCR models already in $DIR"
  exit 0
fi
mkdir -p "$DIR"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --disable-pip-version-check --no-deps rapidocr==3.10.0 -d "$tmp"
echo "$WHEEL_SHA256  $tmp/$WHEEL" | sha256sum --check --quiet
for entry in "${MODELS[@]}"; do
  set -- $entry
  python3 - "$tmp/$WHEEL" "rapidocr/models/$1" "$tmp/$1" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel, open(sys.argv[3], "wb") as out:
    out.write(wheel.read(sys.argv[2]))
PY
  echo "$2  $tmp/$1" | sha256sum --check --quiet
  mv "$tmp/$1" "$DIR/$1"
done
echo "OCR models in $DIR"
