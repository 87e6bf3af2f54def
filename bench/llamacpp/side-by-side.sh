#!/usr/bin/env bash
# llama.cpp Q4_0 and paddock 4-bit g128 act-order, both LLaMA-7B-shaped with random weights, 2 threads, run
# alternately (README.md in this directory says how to make the two model files and install llama.cpp).
#   GGUF=/work/synth/7b-q4_0.gguf GPTQ=/work/synth/7b-4b-g128-ao LLAMACPP=/work/llamacpp bench/llamacpp/side-by-side.sh
set -u
cd "$(dirname "$0")/../.."
GGUF=${GGUF:?path of the Q4_0 GGUF}; GPTQ=${GPTQ:?path of the GPTQ directory}; LLAMACPP=${LLAMACPP:?npm prefix}
PASSES=${PASSES:-2}
export NODE_PATH=$LLAMACPP/node_modules
pb() { echo "=== paddock $* $(date +%T) load=$(cut -d' ' -f1 /proc/loadavg)"
       /usr/bin/time -f "maxrss_kb=%M wall=%e" ./paddock bench --model "$GPTQ" --threads 2 --bandwidth-mb 64 "$@" 2>&1 \
         | grep -v "WARNING\|^\s*$"; }
lb() { echo "=== llama.cpp $* $(date +%T) load=$(cut -d' ' -f1 /proc/loadavg)"
       /usr/bin/time -f "maxrss_kb=%M wall=%e" node bench/llamacpp/bench.mjs --model "$GGUF" --threads 2 "$@" 2>&1; }
for ((pass = 1; pass <= PASSES; pass++)); do
  lb --parallel 1 --prompt 128 --gen 32 --rounds 2
  pb --concurrency 1 --prompt-tokens 128 --tokens 32 --seconds 1
  lb --parallel 1 --prompt 512 --gen 16 --rounds 2
  pb --concurrency 1 --prompt-tokens 512 --tokens 16 --seconds 1
  lb --parallel 4,16,32 --prompt 128 --gen 32 --rounds 1
  pb --concurrency 4,16,32 --prompt-tokens 128 --tokens 32 --seconds 1
done
