package io.paddock.cli;

import io.paddock.bench.SyntheticCheckpoint;
import io.paddock.bench.SyntheticShape;
import io.paddock.bench.SyntheticSpec;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;

/**
 * {@code paddock synth}: writes a synthetic checkpoint ({@link SyntheticCheckpoint}) and prints one summary line.
 * Every mistake is one {@link CliArgs.UsageException} line.
 */
public final class SynthCommand {
    public static final String USAGE = "usage: paddock synth --shape tiny|llama-7b|llama-13b|llama-33b|llama-65b"
            + " [--bits 2|3|4|8] [--group-size -1|32|64|128] [--act-order] [--layers N] [--dtype gptq|f16] [--seed S]"
            + " --out DIR";
    private static final Set<String> VALUED = Set.of("shape", "bits", "group-size", "layers", "dtype", "seed", "out");
    private static final Set<String> FLAGS = Set.of("act-order");

    /** @param note appended to the summary line, e.g. options ignored for F16 */
    record Parsed(SyntheticSpec spec, Path out, String note) {}

    private SynthCommand() {}

    public static int run(String[] args, PrintStream out) {
        Parsed p = parse(args);
        long start = System.nanoTime();
        SyntheticCheckpoint.write(p.spec(), p.out());
        double seconds = (System.nanoTime() - start) / 1e9;
        long bytes;
        try {
            bytes = Files.size(p.out().resolve(SyntheticCheckpoint.WEIGHTS));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        out.printf(Locale.ROOT, "wrote %s: %s, %.2f GB in %.1f s (%.0f MB/s)%s%n", p.out(),
                p.spec().describe(), bytes / 1e9, seconds, bytes / 1e6 / seconds, p.note());
        return 0;
    }

    static Parsed parse(String[] args) {
        CliArgs a = new CliArgs(args, VALUED, FLAGS);
        if (!a.positional().isEmpty()) {
            throw new CliArgs.UsageException("unexpected argument '" + a.positional().getFirst() + "'");
        }
        if (a.string("shape", null) == null) {
            throw new CliArgs.UsageException("--shape is required (" + String.join(", ",
                    SyntheticShape.ALL.stream().map(SyntheticShape::name).toList()) + ")");
        }
        if (a.string("out", null) == null) throw new CliArgs.UsageException("--out DIR is required");
        SyntheticShape shape;
        try {
            shape = SyntheticShape.byName(a.string("shape", null));
        } catch (IllegalArgumentException e) {
            throw new CliArgs.UsageException("--shape: " + e.getMessage());
        }
        String dtype = a.string("dtype", "gptq").toLowerCase(Locale.ROOT);
        SyntheticSpec.Format format = switch (dtype) {
            case "gptq" -> SyntheticSpec.Format.GPTQ;
            case "f16", "float16", "fp16" -> SyntheticSpec.Format.F16;
            default -> throw new CliArgs.UsageException("--dtype must be gptq or f16, got '" + a.string("dtype", null) + "'");
        };
        int bits = a.integer("bits", 4), groupSize = a.integer("group-size", 128);
        boolean actOrder = a.flag("act-order");
        int layers = a.integer("layers", shape.layers());
        long seed = a.longValue("seed", 0L);
        if (layers <= 0) throw new CliArgs.UsageException("--layers must be positive, got " + layers);
        String note = "";
        if (format == SyntheticSpec.Format.GPTQ) {
            if (bits != 2 && bits != 3 && bits != 4 && bits != 8) {
                throw new CliArgs.UsageException("--bits must be 2, 3, 4 or 8, got " + bits);
            }
            if (groupSize != -1 && groupSize <= 0) {
                throw new CliArgs.UsageException("--group-size must be -1 (no groups) or positive, got " + groupSize);
            }
        } else if (a.string("bits", null) != null || a.string("group-size", null) != null || a.flag("act-order")) {
            note = " (--bits/--group-size/--act-order ignored with --dtype f16)";
        }
        SyntheticSpec spec;
        try {
            spec = new SyntheticSpec(shape, layers, format, bits, groupSize, actOrder, seed);
        } catch (IllegalArgumentException e) {
            throw new CliArgs.UsageException("--group-size " + groupSize + ": " + e.getMessage());
        }
        return new Parsed(spec, Path.of(a.string("out", null)), note);
    }
}
