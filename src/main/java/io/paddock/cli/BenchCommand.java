package io.paddock.cli;

import io.paddock.bench.GptqMatVecBench;
import io.paddock.bench.MatVecBench;
import io.paddock.bench.ModelBench;
import io.paddock.bench.StreamingBench;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * {@code paddock bench ...}: parses the options of the model and streaming benchmarks and runs the measurement in
 * {@code bench}. The streaming benchmark needs the real server, which only the application edge may start: it
 * comes in as a {@link StreamingBench.ServerStarter}.
 */
public final class BenchCommand {
    private BenchCommand() {}

    public static int run(String[] args, PrintStream out, PrintStream err, StreamingBench.ServerStarter server) {
        if (args.length == 0) throw new CliArgs.UsageException("bench needs --model DIR, or a kernel benchmark: matvec");
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        return switch (args[0]) {
            case "matvec" -> MatVecBench.run(rest, out);
            case "gptq-matvec" -> GptqMatVecBench.run(rest, out);
            case "streaming" -> StreamingBench.run(streamingOptions(rest), server, out);
            default -> {
                if (!args[0].startsWith("--")) {
                    throw new CliArgs.UsageException("unknown benchmark '" + args[0]
                            + "' (known: matvec, gptq-matvec, streaming, --model DIR)");
                }
                ModelBench.Options o = modelOptions(args);
                try {
                    yield ModelBench.run(o, out, err);
                } catch (ModelBench.BadOptions e) {
                    throw new CliArgs.UsageException(e.getMessage());
                }
            }
        };
    }

    static ModelBench.Options modelOptions(String[] argv) {
        CliArgs a = new CliArgs(argv, CliArgs.union(CliArgs.GPTQ_VALUED, Set.of("model", "threads", "tokens",
                "prompt-tokens", "concurrency", "seconds", "bandwidth-mb", "runtime")), CliArgs.union(CliArgs.GPTQ_FLAGS, Set.of("json")));
        String dir = a.string("model", null);
        if (dir == null) throw new CliArgs.UsageException("bench needs --model DIR (or: bench matvec)");
        int threads = a.integer("threads", Runtime.getRuntime().availableProcessors());
        int steps = a.integer("tokens", 16);
        int promptTokens = a.integer("prompt-tokens", 16);
        double seconds = a.decimal("seconds", 10f);
        List<Integer> levels = new ArrayList<>();
        for (String s : a.string("concurrency", "1").split(",")) {
            try {
                levels.add(Integer.parseInt(s.trim()));
            } catch (NumberFormatException e) {
                throw new CliArgs.UsageException("--concurrency expects a list like 1,4,16, got '" + s + "'");
            }
        }
        if (steps < 1 || promptTokens < 1 || levels.stream().anyMatch(c -> c < 1)) {
            throw new CliArgs.UsageException("--tokens, --prompt-tokens and --concurrency must be >= 1");
        }
        return new ModelBench.Options(dir, threads, steps, promptTokens, seconds, levels, a.gptqOverrides(),
                a.string("runtime", "auto"), a.integer("bandwidth-mb", 512), a.flag("json"));
    }

    static StreamingBench.Options streamingOptions(String[] argv) {
        CliArgs a = new CliArgs(argv, Set.of("model", "concurrency", "tokens", "prompt-tokens", "rounds", "threads"), Set.of());
        String model = a.string("model", null);
        if (model == null) throw new CliArgs.UsageException("bench streaming needs --model DIR");
        List<Integer> levels = Arrays.stream(a.string("concurrency", "1,16").split(",")).map(String::trim)
                .map(Integer::parseInt).toList();
        return new StreamingBench.Options(model, levels, a.integer("tokens", 64), a.integer("prompt-tokens", 16),
                a.integer("rounds", 5), a.integer("threads", null));
    }
}
