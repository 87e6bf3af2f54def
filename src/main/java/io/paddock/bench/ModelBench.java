package io.paddock.bench;

import io.paddock.engine.EngineConfig;
import io.paddock.runtime.KvCacheDtype;
import io.paddock.engine.EngineCore;
import io.paddock.engine.EngineListener;
import io.paddock.engine.GenerationRequest;
import io.paddock.engine.GenerationResult;
import io.paddock.loading.LoadedModel;
import io.paddock.loading.ModelCatalog;
import io.paddock.model.GptqOverrides;
import io.paddock.model.LlamaConfig;
import io.paddock.sampling.SamplingParams;
import io.paddock.structured.Grammar;
import io.paddock.structured.TokenConstraint;
import io.paddock.structured.TokenIndex;
import io.paddock.runtime.cpu.GptqInt8;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code paddock bench --model DIR}: decode tokens/s of a model against the bandwidth ceiling measured in the same
 * run. Batch 1 reads every weight once per token, so the ceiling is read bandwidth ÷ bytes read per token (weights,
 * scales/zeros and the KV cache at the measured positions). With {@code --concurrency 1,4,16} it also runs that many
 * sequences decoding together, one batched forward pass per step, and reports aggregate tokens/s.
 */
public final class ModelBench {
    private ModelBench() {}

    record Level(int concurrency, double tokensPerSecond, double msPerStep, long bytesPerStep,
            double bandwidthGbs, double ceilingTokensPerSecond, double fraction, int samples, double kvWaste,
            double prefillTokensPerSecond) {}

    /**
     * What to measure, as {@code cli.BenchCommand} parses it.
     *
     * @param levels concurrency levels, each >= 1
     */
    public record Options(String model, int threads, int tokens, int promptTokens, double seconds, List<Integer> levels,
            GptqOverrides gptq, String runtime, int bandwidthMb, boolean json, KvCacheDtype kvCacheDtype,
            long kvCacheBytes, Grammar grammar) {
        public Options {
            levels = List.copyOf(levels);
        }

        public Options(String model, int threads, int tokens, int promptTokens, double seconds, List<Integer> levels,
                GptqOverrides gptq, String runtime, int bandwidthMb, boolean json, KvCacheDtype kvCacheDtype,
                long kvCacheBytes) {
            this(model, threads, tokens, promptTokens, seconds, levels, gptq, runtime, bandwidthMb, json, kvCacheDtype,
                    kvCacheBytes, null);
        }

        public Options(String model, int threads, int tokens, int promptTokens, double seconds, List<Integer> levels,
                GptqOverrides gptq, String runtime, int bandwidthMb, boolean json) {
            this(model, threads, tokens, promptTokens, seconds, levels, gptq, runtime, bandwidthMb, json,
                    KvCacheDtype.AUTO, 0);
        }
    }

    /** An option that does not fit the loaded model (one line, a usage mistake). */
    public static final class BadOptions extends IllegalArgumentException {
        BadOptions(String message) { super(message); }
    }

    public static int run(Options o, PrintStream out, PrintStream err) {
        int threads = o.threads(), steps = o.tokens(), promptTokens = o.promptTokens();
        double seconds = o.seconds();
        List<Integer> levels = o.levels();
        try (LoadedModel model = ModelCatalog.open(o.model(), threads, o.gptq(), o.runtime(), err);
             BandwidthProbe probe = new BandwidthProbe(model.parallel(), o.bandwidthMb() * (1L << 20))) {
            LlamaConfig c = model.checkpoint().config();
            if (promptTokens + steps > c.maxPositionEmbeddings()) {
                throw new BadOptions("--prompt-tokens + --tokens exceed the context length " + c.maxPositionEmbeddings());
            }
            long weightBytes = model.checkpoint().weights().bytesPerToken();
            model.warmUp();
            if (o.grammar() != null) warmUpGrammar(model, o.grammar());
            List<Level> results = new ArrayList<>();
            model.runtime().useKvCacheDtype(o.kvCacheDtype()); // before kvBytesPerToken() below
            for (int conc : levels) results.add(measure(model, probe, conc, promptTokens, steps, seconds, weightBytes, o, err));
            if (o.json()) {
                out.println(json(model, threads, weightBytes, results));
            } else {
                out.printf(Locale.ROOT, "model %s, %d thread(s), %.2f GB of weights read per step, decode from position %d,"
                        + " KV cache %s%n", model.id(), threads, weightBytes / 1e9, promptTokens,
                        model.runtime().kvCacheDtype().label());
                out.println("GPTQ on the CPU: " + GptqInt8.describe());
                if (o.grammar() != null) out.println("every request constrained by " + o.grammar().describe());
                out.printf(Locale.ROOT, "%6s %10s %9s %10s %9s %10s %8s %8s %7s %9s%n", "conc", "tokens/s", "ms/step",
                        "MB/step", "bw GB/s", "ceiling", "fraction", "kv waste", "samples", "prefill/s");
                for (Level l : results) {
                    out.printf(Locale.ROOT, "%6d %10.2f %9.2f %10.1f %9.1f %10.2f %7.0f%% %7.1f%% %7d %9.1f%n", l.concurrency(),
                            l.tokensPerSecond(), l.msPerStep(), l.bytesPerStep() / 1e6, l.bandwidthGbs(),
                            l.ceilingTokensPerSecond(), 100 * l.fraction(), 100 * l.kvWaste(), l.samples(),
                            l.prefillTokensPerSecond());
                }
            }
        }
        return 0;
    }

    /**
     * Runs the mask path of {@code grammar} on the model's vocabulary (random walks of allowed tokens, ~2 s) so that
     * its code is compiled before anything is timed: a serving process has long passed this point. The grammar's
     * per-state mask cache keeps what the walks filled; the states the measured requests reach are new to it.
     */
    private static void warmUpGrammar(LoadedModel model, Grammar grammar) {
        TokenIndex index = TokenIndex.of(model.tokenizer());
        int vocab = model.checkpoint().config().vocabSize();
        Set<Integer> eos = model.eosIds();
        SplittableRandom r = new SplittableRandom(1);
        float[] logits = new float[vocab];
        long end = System.nanoTime() + 2_000_000_000L;
        while (System.nanoTime() < end) {
            TokenConstraint c = new TokenConstraint(grammar, index, eos);
            for (int step = 0; step < 64 && !c.isTerminal(); step++) {
                Arrays.fill(logits, 0f);
                c.mask(logits);
                int pick = -1, seen = 0;
                for (int id = 0; id < vocab; id++) {
                    if (logits[id] == 0f && !eos.contains(id) && r.nextInt(++seen) == 0) pick = id; // reservoir sample
                }
                if (pick < 0) break;
                c.accept(pick);
            }
        }
    }

    /**
     * Alternates bandwidth probes with rounds of {@code conc} requests through the real engine (continuous batching,
     * paged KV). A round's decode rate is measured between the moment every request has produced its first token
     * and the moment the first one finishes, so prefill is excluded and the batch is full throughout.
     */
    private static Level measure(LoadedModel model, BandwidthProbe probe, int conc, int promptTokens, int steps,
            double seconds, long weightBytes, Options o, PrintStream err) {
        LlamaConfig c = model.checkpoint().config();
        long kvBytes = (long) conc * model.runtime().kvBytesPerToken()
                * (promptTokens + steps / 2); // each sequence reads its cache at the average position of the run
        long bytesPerStep = weightBytes + kvBytes;
        List<Double> bw = new ArrayList<>(), stepMs = new ArrayList<>(), waste = new ArrayList<>(), prefill = new ArrayList<>();
        EngineConfig cfg = new EngineConfig(16, o.kvCacheBytes(), Math.max(conc, 1), Math.max(512, conc * promptTokens),
                false, conc).withKvCacheDtype(o.kvCacheDtype());
        try (EngineCore engine = new EngineCore(model, cfg)) {
            long end = System.nanoTime() + (long) (seconds * 1e9);
            int round = 0;
            while (System.nanoTime() < end || stepMs.size() < 3) {
                bw.add(probe.measureGbs());
                DecodeWindow r = new DecodeWindow(conc, engine::stats);
                for (int s = 0; s < conc; s++) {
                    int[] prompt = new int[promptTokens];
                    for (int i = 0; i < promptTokens; i++) prompt[i] = 3 + (i * 7 + s * 13 + round) % (c.vocabSize() - 3);
                    engine.submit(new GenerationRequest(prompt, steps + 1, SamplingParams.greedy(), List.of(), true)
                            .withGrammar(o.grammar()), r.listener(s));
                }
                r.await();
                stepMs.add(r.msPerStep());
                waste.add(r.kvWaste());
                prefill.add(conc * promptTokens / r.secondsToAllFirstTokens());
                round++;
                if (r.msPerStep() * steps > 1000) { // progress for big models only
                    err.printf(Locale.ROOT, "  concurrency %d: %.2f ms/step, bandwidth %.1f GB/s%n", conc, stepMs.getLast(), bw.getLast());
                }
            }
        }
        double ms = Stats.median(stepMs), gbs = Stats.median(bw);
        double tps = conc * 1000.0 / ms;
        // The ceiling counts the weights once per step, as a batched step reads them once for all sequences.
        double ceiling = conc * gbs * 1e9 / bytesPerStep;
        return new Level(conc, tps, ms, bytesPerStep, gbs, ceiling, tps / ceiling, stepMs.size(), Stats.median(waste),
                Stats.median(prefill));
    }

    private static String json(LoadedModel model, int threads, long weightBytes, List<Level> levels) {
        Level first = levels.getFirst();
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("model", model.id());
        o.put("threads", threads);
        o.put("tokens_per_second", first.tokensPerSecond());
        o.put("bytes_per_token", first.bytesPerStep());
        o.put("weight_bytes_per_step", weightBytes);
        o.put("read_bandwidth_gb_s", first.bandwidthGbs());
        o.put("ceiling_tokens_per_second", first.ceilingTokensPerSecond());
        o.put("fraction", first.fraction());
        List<Map<String, Object>> lv = new ArrayList<>();
        for (Level l : levels) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("concurrency", l.concurrency());
            m.put("tokens_per_second", l.tokensPerSecond());
            m.put("ms_per_step", l.msPerStep());
            m.put("bytes_per_step", l.bytesPerStep());
            m.put("read_bandwidth_gb_s", l.bandwidthGbs());
            m.put("ceiling_tokens_per_second", l.ceilingTokensPerSecond());
            m.put("fraction", l.fraction());
            m.put("kv_waste", l.kvWaste());
            m.put("prefill_tokens_per_second", l.prefillTokensPerSecond());
            lv.add(m);
        }
        o.put("levels", lv);
        return JsonMapper.builder().build().writeValueAsString(o);
    }
}
