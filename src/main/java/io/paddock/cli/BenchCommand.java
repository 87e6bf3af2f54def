package io.paddock.cli;

import io.paddock.bench.GptqMatVecBench;
import io.paddock.bench.LoadTest;
import io.paddock.bench.LoraBench;
import io.paddock.bench.MatVecBench;
import io.paddock.bench.ModelBench;
import io.paddock.bench.PrometheusText;
import io.paddock.bench.StreamingBench;
import io.paddock.format.DType;
import io.paddock.model.GptqSpec;
import io.paddock.runtime.KvCacheDtype;
import io.paddock.structured.Grammar;
import io.paddock.structured.Grammars;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code paddock bench ...}: parses the options of every benchmark (model, streaming and the matvec and GPTQ
 * kernels) and runs the measurement in {@code bench}. The streaming benchmark needs the real server, which only the application edge may start: it
 * comes in as a {@link StreamingBench.ServerStarter}.
 */
public final class BenchCommand {
    private BenchCommand() {}

    public static int run(String[] args, PrintStream out, PrintStream err, StreamingBench.ServerStarter server) {
        if (args.length == 0) throw new CliArgs.UsageException("bench needs --model DIR, or a benchmark: matvec, gptq-matvec, streaming");
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        return switch (args[0]) {
            case "matvec" -> Usage.asksForHelp(rest) ? help(Usage.BENCH_MATVEC, out) : MatVecBench.run(matvecOptions(rest), out);
            case "gptq-matvec" -> Usage.asksForHelp(rest) ? help(Usage.BENCH_GPTQ_MATVEC, out)
                    : GptqMatVecBench.run(gptqMatvecOptions(rest), out);
            case "streaming" -> StreamingBench.run(streamingOptions(rest), server, out);
            case "load" -> load(rest, server, out);
            case "lora" -> Usage.asksForHelp(rest) ? help(Usage.BENCH_LORA, out) : lora(rest, out, err);
            default -> {
                if (!args[0].startsWith("--")) {
                    throw new CliArgs.UsageException("unknown benchmark '" + args[0]
                            + "' (known: matvec, gptq-matvec, streaming, load, lora, --model DIR)");
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
                "prompt-tokens", "concurrency", "seconds", "bandwidth-mb", "runtime", "kv-cache-dtype", "kv-cache-memory-mb",
                "grammar")),
                CliArgs.union(CliArgs.GPTQ_FLAGS, Set.of("json")));
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
                a.string("runtime", "auto"), a.integer("bandwidth-mb", 512), a.flag("json"), kvDtype(a),
                (long) a.integer("kv-cache-memory-mb", 0) << 20, grammar(a.string("grammar", null)));
    }

    /** {@code --grammar json_object} or {@code --grammar FILE} (a JSON schema): every request constrained by it. */
    private static Grammar grammar(String spec) {
        if (spec == null) return null;
        if (spec.equals("json_object")) return Grammars.anyJsonObject();
        Path file = Path.of(spec);
        if (!Files.isRegularFile(file)) {
            throw new CliArgs.UsageException("--grammar expects json_object or a JSON schema file, got '" + spec + "'");
        }
        try {
            return Grammars.jsonSchema(JsonMapper.shared().readTree(file.toFile()));
        } catch (RuntimeException e) {
            throw new CliArgs.UsageException("--grammar " + spec + ": " + e.getMessage());
        }
    }

    private static KvCacheDtype kvDtype(CliArgs a) {
        try {
            return KvCacheDtype.parse(a.string("kv-cache-dtype", "auto"));
        } catch (IllegalArgumentException e) {
            throw new CliArgs.UsageException("--" + e.getMessage());
        }
    }

    /** {@code bench lora}: base vs one adapter vs several adapters in one batch, side by side. */
    static int lora(String[] argv, PrintStream out, PrintStream err) {
        LoraBench.Options o = withUsage(Usage.BENCH_LORA, () -> {
            CliArgs a = new CliArgs(argv, CliArgs.union(CliArgs.GPTQ_VALUED, Set.of("model", "threads", "adapters", "rank",
                    "concurrency", "tokens", "prompt-tokens", "seconds")), CliArgs.GPTQ_FLAGS);
            noPositional(a);
            String model = a.string("model", null);
            if (model == null) throw new CliArgs.UsageException("bench lora needs --model DIR");
            return new LoraBench.Options(model, positive(a, "threads", Runtime.getRuntime().availableProcessors()),
                    positive(a, "adapters", 4), positive(a, "rank", 64), positive(a, "concurrency", 16),
                    positive(a, "tokens", 32), positive(a, "prompt-tokens", 16), seconds(a, 30f), a.gptqOverrides());
        });
        try {
            return LoraBench.run(o, out, err);
        } catch (ModelBench.BadOptions e) {
            throw new CliArgs.UsageException(e.getMessage());
        }
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

    /**
     * {@code bench load}: against {@code --url}, or a server started here on {@code --model}; exit 0 when every
     * request completed or was refused by design and the server is idle again (no KV block held), else 1.
     */
    static int load(String[] argv, StreamingBench.ServerStarter starter, PrintStream out) {
        CliArgs a = new CliArgs(argv, Set.of("url", "model", "requests", "disconnect", "burst", "max-tokens", "seed",
                "api-key", "threads"), Set.of());
        String url = a.string("url", null), model = a.string("model", null);
        if ((url == null) == (model == null)) throw new CliArgs.UsageException("bench load needs --url URL or --model DIR");
        int requests = a.integer("requests", 200);
        StreamingBench.Server server = model == null ? null : starter.start(model, a.integer("threads", null),
                Math.min(requests, 64));
        try {
            URI base = URI.create(server != null ? "http://localhost:" + server.port() : url);
            var options = new LoadTest.Options(base, requests, a.decimal("disconnect", 0.2f), a.integer("burst", 300),
                    a.integer("max-tokens", 64), a.integer("seed", 1), a.string("api-key", null));
            LoadTest.Report report = LoadTest.run(options, out);
            PrometheusText after = LoadTest.awaitIdle(base, Duration.ofSeconds(30));
            double used = after.sum("paddock_kv_cache_blocks_used");
            out.printf(Locale.ROOT, "after: %.0f KV blocks used of %.0f, %.0f requests running, %.0f waiting%n", used,
                    after.sum("paddock_kv_cache_blocks_total"), after.sum("paddock_requests_running"),
                    after.sum("paddock_requests_waiting"));
            return report.clean() && used == 0 ? 0 : 1;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        } finally {
            if (server != null) server.close();
        }
    }

    private static int help(String usage, PrintStream out) {
        out.print(usage);
        return 0;
    }

    /** {@code bench matvec} options; every mistake a {@link CliArgs.UsageException} that ends with the usage. */
    static MatVecBench.Options matvecOptions(String[] argv) {
        return withUsage(Usage.BENCH_MATVEC, () -> {
            CliArgs a = new CliArgs(argv, Set.of("threads", "rows", "cols", "seconds", "dtypes", "batch", "bandwidth-mb",
                    "misalign"), Set.of());
            noPositional(a);
            int threads = positive(a, "threads", Runtime.getRuntime().availableProcessors());
            Integer rows = a.integer("rows", null), cols = a.integer("cols", null);
            if ((rows == null) != (cols == null)) throw new CliArgs.UsageException("--rows and --cols go together");
            List<int[]> shapes = rows == null ? List.of(new int[] {11008, 4096}, new int[] {4096, 11008})
                    : List.of(new int[] {positive(a, "rows", 1), positive(a, "cols", 1)});
            double seconds = seconds(a, 2f);
            List<DType> dtypes = list(a, "dtypes", "F32,F16,BF16", BenchCommand::matvecDType);
            int batch = positive(a, "batch", 1);
            long bandwidthMb = positiveLong(a, "bandwidth-mb", 512L);
            int misalign = a.integer("misalign", 0);
            if (misalign < 0 || misalign > 63) throw new CliArgs.UsageException("--misalign must be 0..63");
            return new MatVecBench.Options(threads, shapes, seconds, dtypes, batch, bandwidthMb << 20, misalign);
        });
    }

    /** {@code bench gptq-matvec} options; every mistake a {@link CliArgs.UsageException} that ends with the usage. */
    static GptqMatVecBench.Options gptqMatvecOptions(String[] argv) {
        return withUsage(Usage.BENCH_GPTQ_MATVEC, () -> {
            CliArgs a = new CliArgs(argv, Set.of("threads", "seconds", "batches", "variants", "shapes", "bandwidth-mb", "int8"),
                    Set.of());
            noPositional(a);
            int threads = positive(a, "threads", Runtime.getRuntime().availableProcessors());
            double seconds = seconds(a, 1f);
            List<Integer> batches = list(a, "batches", "1,4,16", s -> {
                try {
                    int b = Integer.parseInt(s);
                    if (b >= 1) return b;
                } catch (NumberFormatException e) {
                    // reported below
                }
                throw new CliArgs.UsageException("--batches expects a list of integers >= 1 like 1,4,16, got '" + s + "'");
            });
            List<GptqMatVecBench.Variant> variants = list(a, "variants", "4g128act,4g128,3g128act,2g128,8g128",
                    BenchCommand::variant);
            List<int[]> shapes = list(a, "shapes", "11008x4096,4096x11008,4096x4096", BenchCommand::shape);
            long bandwidthMb = positiveLong(a, "bandwidth-mb", 512L);
            List<String> int8 = list(a, "int8", GptqMatVecBench.defaultInt8(), m -> {
                try {
                    return GptqMatVecBench.int8Mode(m);
                } catch (IllegalArgumentException e) {
                    throw new CliArgs.UsageException("--int8: " + e.getMessage());
                }
            });
            return new GptqMatVecBench.Options(threads, seconds, batches, variants, shapes, bandwidthMb << 20, int8);
        });
    }

    /** A GPTQ variant: bits, "g", group size (or "g-1"), optional "act" for act-order, e.g. 4g128act. */
    static GptqMatVecBench.Variant variant(String s) {
        String t = s, bad = "--variants: '" + s + "' is not like 4g128act (bits 2, 3, 4 or 8; g and a group size or -1;"
                + " optional act)";
        boolean act = t.endsWith("act");
        if (act) t = t.substring(0, t.length() - 3);
        int g = t.indexOf('g');
        if (g < 1) throw new CliArgs.UsageException(bad);
        int bits, groupSize;
        try {
            bits = Integer.parseInt(t.substring(0, g));
            groupSize = Integer.parseInt(t.substring(g + 1));
        } catch (NumberFormatException e) {
            throw new CliArgs.UsageException(bad);
        }
        if (bits != 2 && bits != 3 && bits != 4 && bits != 8) throw new CliArgs.UsageException(bad);
        try {
            new GptqSpec(bits, groupSize, act, true, true);
        } catch (IllegalArgumentException e) {
            throw new CliArgs.UsageException("--variants: '" + s + "': " + e.getMessage());
        }
        return new GptqMatVecBench.Variant(s, bits, groupSize, act);
    }

    /** A matrix shape, out x in, e.g. 11008x4096. */
    static int[] shape(String s) {
        String[] d = s.split("x");
        try {
            if (d.length == 2) {
                int out = Integer.parseInt(d[0].trim()), in = Integer.parseInt(d[1].trim());
                if (out >= 1 && in >= 1) return new int[] {out, in};
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new CliArgs.UsageException("--shapes expects OUTxIN pairs like 11008x4096,4096x4096, got '" + s + "'");
    }

    private static DType matvecDType(String s) {
        String name = s.toUpperCase(Locale.ROOT);
        if (name.equals("F32") || name.equals("F16") || name.equals("BF16")) return DType.valueOf(name);
        throw new CliArgs.UsageException("--dtypes expects F32, F16 or BF16 (comma-separated), got '" + s + "'");
    }

    private static <T> T withUsage(String usage, Supplier<T> parse) {
        try {
            return parse.get();
        } catch (CliArgs.UsageException e) {
            throw new CliArgs.UsageException(e.getMessage() + "\n" + usage.stripTrailing());
        }
    }

    private static void noPositional(CliArgs a) {
        if (!a.positional().isEmpty()) {
            throw new CliArgs.UsageException("unexpected argument '" + a.positional().getFirst() + "'");
        }
    }

    private static <T> List<T> list(CliArgs a, String name, String fallback, Function<String, T> item) {
        List<T> items = new ArrayList<>();
        for (String s : a.string(name, fallback).split(",")) {
            if (!s.isBlank()) items.add(item.apply(s.trim()));
        }
        if (items.isEmpty()) throw new CliArgs.UsageException("--" + name + " needs at least one value");
        return List.copyOf(items);
    }

    private static int positive(CliArgs a, String name, int fallback) {
        int n = a.integer(name, fallback);
        if (n < 1) throw new CliArgs.UsageException("--" + name + " must be >= 1");
        return n;
    }

    private static long positiveLong(CliArgs a, String name, long fallback) {
        long n = a.longValue(name, fallback);
        if (n < 1) throw new CliArgs.UsageException("--" + name + " must be >= 1");
        return n;
    }

    private static double seconds(CliArgs a, float fallback) {
        double s = a.decimal("seconds", fallback);
        if (!(s > 0) || Double.isInfinite(s)) throw new CliArgs.UsageException("--seconds must be > 0");
        return s;
    }
}
