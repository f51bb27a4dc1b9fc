#!/usr/bin/env bash
# Knowledge-distillation experiment on WikiText-2: a 4-layer teacher (trained here on valid.txt) distilled into
# a 2-layer student, against the same student trained with the causal-LM loss alone. Every arm uses the same
# student config, data, seeds and step budget; the teacher is served by onnxruntime-node from its ONNX export.
# Usage: scripts/kd_experiment.sh TEACHER_DIR OUT_DIR STEPS "SEEDS" EVAL_TOKENS [scratch|teacher] [LR]
# The sixth argument picks the students' starting weights: a fresh student-l2-c256 (scratch, the default) or
# teacher blocks copied into it as DistilGPT2 does (teacher: --init-from-teacher); every arm starts the same way.
set -euo pipefail
teacher=${1:-runs/wt2-small/model}
out=${2:-runs/kd}
steps=${3:-20}
seeds=${4:-"0 1"}
eval_tokens=${5:-20000}
init=${6:-scratch}
lr=${7:-2e-3}
train=../shared/data/wikitext-2/valid.txt
test=../shared/data/wikitext-2/test.txt
mkdir -p "$out"
printf '{"init": "%s", "lr": "%s", "steps": %s, "batch": 4, "seq": 128}\n' "$init" "$lr" "$steps" > "$out/settings.json"
[ -f "$teacher/onnx/hidden.onnx" ] || deno task export --model "$teacher" --hidden
case "$init" in
  scratch) start=() ;;
  teacher) start=(--init-from-teacher) ;;
  *) echo "error: the sixth argument must be scratch or teacher, got '$init'" >&2 && exit 2 ;;
esac
common=(--teacher "$teacher/onnx/hidden.onnx" --student configs/student-l2-c256.json "${start[@]}" --data "$train"
  --steps "$steps" --batch 4 --seq 128 --lr "$lr" --warmup 3 --schedule cosine --eval-every 0 --save-every 0 --json)
declare -A arms=(
  [clm]="--alpha-ce 0 --alpha-clm 1"
  [kd]="--alpha-ce 5 --alpha-clm 2 --alpha-cos 1 --temperature 2"
  [kd_mse]="--alpha-ce 5 --alpha-clm 2 --alpha-cos 1 --temperature 2 --alpha-mse 1"
  [kd_wd]="--alpha-ce 5 --alpha-clm 2 --alpha-cos 1 --temperature 2 --alpha-wd 0.1 --n-critic 5"
)
eval_model() { # model_dir json_out
  [ -s "$2" ] || deno task eval --model "$1" --data "$test" --seq 128 --stride 128 --batch 8 \
    --max-tokens "$eval_tokens" --json > "$2"
}
eval_model "$teacher" "$out/teacher.eval.json"
# CLM vs KD first over every seed (the headline comparison), then the hidden-state variants seed by seed.
plan=()
for seed in $seeds; do plan+=("clm $seed" "kd $seed"); done
for seed in $seeds; do plan+=("kd_mse $seed" "kd_wd $seed"); done
for item in "${plan[@]}"; do
  read -r arm seed <<<"$item"
  dir="$out/$arm-s$seed"
  if [ ! -s "$dir.train.jsonl" ] || ! grep -q '"event":"done"' "$dir.train.jsonl"; then
    # shellcheck disable=SC2086
    deno task distill "${common[@]}" ${arms[$arm]} --seed "$seed" --out "$dir" > "$dir.train.jsonl"
  fi
  eval_model "$dir/model" "$dir.eval.json"
done
deno run --allow-read --allow-write=./runs scripts/kd_table.ts "$out"
