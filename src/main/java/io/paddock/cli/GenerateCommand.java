package io.paddock.cli;

import io.paddock.engine.Admission;
import io.paddock.engine.EngineConfig;
import io.paddock.engine.GenerationRequest;
import io.paddock.engine.GenerationResult;
import io.paddock.engine.GenerationService;
import io.paddock.engine.RequestRejectedException;
import io.paddock.loading.LoadedModel;
import io.paddock.loading.ModelCatalog;
import io.paddock.model.GenerationConfig;
import io.paddock.sampling.SamplingParams;
import java.io.PrintStream;
import java.util.List;
import java.util.Set;

/** {@code paddock generate}: prints only the generated text on stdout; progress and figures go to stderr. */
public final class GenerateCommand {
    private GenerateCommand() {}

    public static int run(String[] argv, PrintStream out, PrintStream err) {
        CliArgs a = new CliArgs(argv, CliArgs.union(CliArgs.GPTQ_VALUED, Set.of("model", "prompt", "max-tokens",
                "temperature", "top-p", "top-k", "min-p", "seed", "repetition-penalty", "presence-penalty",
                "frequency-penalty", "threads", "stop", "runtime")), CliArgs.union(CliArgs.GPTQ_FLAGS, Set.of("ignore-eos")));
        if (!a.positional().isEmpty()) throw new CliArgs.UsageException("unexpected argument '" + a.positional().getFirst() + "'");
        int threads = a.integer("threads", Runtime.getRuntime().availableProcessors());
        long t0 = System.nanoTime();
        // One sequence: a KV pool of one context, a batch of one.
        EngineConfig oneSequence = EngineConfig.defaults().withMaxNumSeqs(1);
        try (GenerationService engine = new GenerationService(
                ModelCatalog.open(a.string("model", null), threads, a.gptqOverrides(),
                        a.string("runtime", "auto"), err), oneSequence)) {
            LoadedModel model = engine.model();
            GenerationConfig gc = model.checkpoint().generationConfig();
            SamplingParams params = SamplingParams.builder()
                    .temperature(a.decimal("temperature", gc.temperature() != null ? gc.temperature() : 1.0f))
                    .topP(a.decimal("top-p", gc.topP() != null ? gc.topP() : 1.0f))
                    .topK(a.integer("top-k", gc.topK() != null ? gc.topK() : 0))
                    .minP(a.decimal("min-p", 0f))
                    .repetitionPenalty(a.decimal("repetition-penalty",
                            gc.repetitionPenalty() != null ? gc.repetitionPenalty() : 1.0f))
                    .presencePenalty(a.decimal("presence-penalty", 0f))
                    .frequencyPenalty(a.decimal("frequency-penalty", 0f))
                    .seed(a.longValue("seed", null))
                    .build();
            try {
                params.validate(model.checkpoint().config().vocabSize());
            } catch (IllegalArgumentException e) {
                throw new CliArgs.UsageException(e.getMessage());
            }
            int[] prompt = model.encodePrompt(a.string("prompt", ""));
            int maxTokens;
            try { // the same admission step as the HTTP API; a budget past the context is cut to fit
                maxTokens = Admission.admit(engine.capacity(), prompt, a.integer("max-tokens", null), 128,
                        Admission.Entry.CLI).maxTokens();
            } catch (RequestRejectedException e) {
                throw new CliArgs.UsageException(e.getMessage());
            }
            List<String> stop = a.string("stop", null) == null ? List.of() : List.of(a.string("stop", null));
            var request = new GenerationRequest(prompt, maxTokens, params, stop, a.flag("ignore-eos"));
            long t1 = System.nanoTime();
            err.printf("loaded %s in %.2f s; prompt %d tokens%n", model.id(), (t1 - t0) / 1e9, prompt.length);
            GenerationResult r;
            try {
                r = engine.generate(request, text -> { out.print(text); out.flush(); });
            } catch (RequestRejectedException e) { // anything else is a fault, not a usage mistake
                throw new CliArgs.UsageException(e.getMessage());
            }
            out.flush();
            double secs = (System.nanoTime() - t1) / 1e9;
            err.printf("%n%d tokens in %.2f s (%.1f tokens/s, prefill included), finish: %s%n",
                    r.completionTokens(), secs, r.completionTokens() / secs, r.finishReason().wireName());
        }
        return 0;
    }
}
