package io.paddock.cli;

import io.paddock.engine.Admission;
import io.paddock.engine.EngineConfig;
import io.paddock.engine.GenerationRequest;
import io.paddock.engine.GenerationResult;
import io.paddock.engine.GenerationService;
import io.paddock.engine.RequestRejectedException;
import io.paddock.loading.LoadedModel;
import io.paddock.loading.ModelCatalog;
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
            SamplingParams params;
            try { // the same merge of generation_config defaults as the HTTP API
                params = Admission.sampling(model.checkpoint().generationConfig(), new Admission.RequestedSampling(
                        a.decimal("temperature", null), a.decimal("top-p", null), a.integer("top-k", null),
                        a.decimal("min-p", null), a.decimal("repetition-penalty", null),
                        a.decimal("presence-penalty", null), a.decimal("frequency-penalty", null), null,
                        a.longValue("seed", null), -1), model.checkpoint().config().vocabSize());
            } catch (RequestRejectedException e) {
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
