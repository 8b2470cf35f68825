#!/usr/bin/env bash
# The toy-world model from scratch, one command (each stage resumes where it stopped):
#   training/reproduce.sh <work folder> [python]
# needs: node + npm ci (the dataset writer and the converter), a Python venv with
# training/requirements.txt (python defaults to /work/venv/bin/python). CPU is enough (2 cores:
# see docs/toy-world.md for the wall times); on a GPU machine the same scripts run as they are.
# To continue the committed run instead of starting over: `python training/checkpoint.py restore <work>`
# first (the VAE and the transformer resume from the repository; the dataset and latents are rebuilt).
set -euo pipefail
work=${1:?usage: training/reproduce.sh <work folder> [python]}
py=${2:-/work/venv/bin/python}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
mkdir -p "$work"
cd "$repo"
npm run --silent world:dataset -- "$work/data" --examples 24000
cp "$work/data/words.json" "$work/words.json"
cd "$here"
"$py" train_vae.py --data "$work/data" --out "$work" --steps 2500
"$py" encode_latents.py --data "$work/data" --out "$work" --examples 16000
[ -d "$work/tokenizers/tokenizer" ] || "$py" world_text.py "$work/words.json" "$work/tokenizers"
"$py" train_dit.py --data "$work/data" --out "$work" --steps "${DIT_STEPS:-6000}"
"$py" export.py --out "$work" --folder "$repo/training/toy-world"
cd "$repo"
npm run --silent convert -- training/toy-world public/packs/toy --precision fp32 --sizes 128
