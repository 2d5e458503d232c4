#!/usr/bin/env bash
# The main job end to end on the embedded default (SQLite + local objects under $RECEIPTS_HOME):
# import labelled receipts → train (MiniLM warm start) → evaluate → export + parity gate →
# promote → predict. Uses the real SROIE receipts in ../shared/data when present, otherwise
# synthetic ones (scripts/synthetic_receipts.py). Takes a few minutes on 2 CPU cores.
set -euo pipefail
cd "$(dirname "$0")/.."
export RECEIPTS_HOME="${RECEIPTS_HOME:-$PWD/.receipts/demo}"
export HF_HUB_OFFLINE=1
CLI=.venv/bin/layoutlm-cli
PY=.venv/bin/python
JOB="layoutlm-demo-$(date -u +%Y%m%d%H%M%S)"
mkdir -p "$RECEIPTS_HOME"

SROIE=../shared/data/sroie/train
if [ -d "$SROIE/box" ]; then
  echo "== import 200 SROIE receipts from $SROIE"
  $CLI import sroie "$SROIE" --limit 200
  DATASET="$RECEIPTS_HOME/dataset.jsonl"
  $CLI import sroie "$SROIE" --limit 200 --jsonl "$DATASET" >/dev/null
else
  echo "== $SROIE not found: importing 200 synthetic receipts instead"
  DATASET="$RECEIPTS_HOME/synthetic.jsonl"
  $PY scripts/synthetic_receipts.py "$DATASET" --count 200
  $CLI import jsonl "$DATASET"
fi

echo "== train $JOB (3 epochs, MiniLM warm start)"
$CLI train --job-name "$JOB" --epochs 3 --batch-size 4 --learning-rate 1e-4 --new-param-lr-multiplier 5 \
  --max-seq-length 512 --no-auto-export
$CLI jobs show "$JOB"

BEST="$RECEIPTS_HOME/objects/runs/$JOB/best"
echo "== evaluate the best checkpoint on the dev split of the store's receipts"
$CLI evaluate --model "$BEST" --split-side dev \
  --output-dir "$RECEIPTS_HOME/evaluation/$JOB"

echo "== export float16 Core ML + ONNX with the parity gate"
$CLI export-coreml --checkpoint-dir "$BEST" --quantize float16 --parity-data "$DATASET" \
  --parity-receipts 4 --json | tee "$RECEIPTS_HOME/export.json"
BUNDLE=$($PY -c "import json,sys; print(json.load(open(sys.argv[1]))['bundle_uri'])" \
  "$RECEIPTS_HOME/export.json")

echo "== promote $BUNDLE"
$CLI promote "$BUNDLE"
$CLI bundles list

IMAGE_ID=$($PY -c "from receipt_cloud.settings import resolve_settings
store = resolve_settings().open_store()
print(sorted(r.image_id for r in store.list_receipts())[0])")
echo "== predict receipt $IMAGE_ID with the ONNX runtime of the promoted bundle"
$CLI predict --model "$BUNDLE" --runtime onnx --image-id "$IMAGE_ID"
