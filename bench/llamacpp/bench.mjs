// llama.cpp (through node-llama-cpp's prebuilt CPU binaries) on a GGUF file, measured the way `paddock bench`
// measures: prefill tokens/s of one prompt, batch-1 decode tokens/s, and aggregate decode tokens/s of N parallel
// sequences over the window in which all of them are decoding. Token ids are random (the model is synthetic).
//
//   npm install --prefix /some/dir node-llama-cpp@3.22.1
//   NODE_PATH=/some/dir/node_modules node bench/llamacpp/bench.mjs --model M.gguf --threads 2 \
//       --prompt 128 --gen 32 --parallel 1,4,16,32
import { createRequire } from "node:module";
import path from "node:path";

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) =>
    a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]]] : acc, []));
const model = args.model, threads = +(args.threads ?? 2), prompt = +(args.prompt ?? 128), gen = +(args.gen ?? 32);
const parallel = (args.parallel ?? "1").split(",").map(Number), rounds = +(args.rounds ?? 2);
const require = createRequire(path.join(process.env.NODE_PATH ?? process.cwd(), "x.js"));
const { getLlama, LlamaLogLevel } = await import(require.resolve("node-llama-cpp"));

const llama = await getLlama({ gpu: false, build: "never", maxThreads: threads, logLevel: LlamaLogLevel.error });
const rss = () => (process.memoryUsage().rss / 2 ** 30).toFixed(2);
let t0 = performance.now();
const m = await llama.loadModel({ modelPath: model, useMmap: true });
console.log(`llama.cpp ${llama.llamaCppRelease?.release ?? "?"} (node-llama-cpp), cpu ${llama.cpuMathCores} math cores,`
    + ` loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s, RSS ${rss()} GB`);
const vocab = 32000; // gguf_synth.py's vocabulary
let seed = 7;
const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
const randomTokens = (n) => Array.from({ length: n }, () => 259 + (rand() % (vocab - 259)));

for (const p of parallel) {
  // node-llama-cpp sizes the KV cache as contextSize cells per sequence.
  const ctx = await m.createContext({ contextSize: prompt + gen + 16, sequences: p,
      threads: { ideal: threads, min: threads }, batchSize: 512, flashAttention: false });
  for (let r = 0; r < rounds; r++) {
    const seqs = Array.from({ length: p }, () => ctx.getSequence());
    t0 = performance.now();
    await Promise.all(seqs.map((s) => s.evaluateWithoutGeneratingNewTokens(randomTokens(prompt))));
    const prefillMs = performance.now() - t0;
    const stamps = seqs.map(() => []);
    await Promise.all(seqs.map(async (s, i) => {
      let n = 0;
      for await (const tok of s.evaluate(randomTokens(1), { temperature: 0 })) {
        stamps[i].push(performance.now());
        if (++n >= gen) break;
      }
    }));
    const start = Math.max(...stamps.map((st) => st[0])), end = Math.min(...stamps.map((st) => st[st.length - 1]));
    let inWindow = 0;
    for (const st of stamps) inWindow += st.filter((t) => t > start && t <= end).length;
    console.log(JSON.stringify({ parallel: p, round: r + 1, prompt, gen,
        prefill_tok_s: +(p * prompt / prefillMs * 1000).toFixed(2),
        decode_tok_s: +(inWindow / (end - start) * 1000).toFixed(2), rss_gb: +rss() }));
    for (const s of seqs) s.dispose();
  }
  await ctx.dispose();
}
