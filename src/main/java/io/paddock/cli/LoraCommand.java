package io.paddock.cli;

import io.paddock.format.DType;
import io.paddock.lora.LoraMerge;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Set;

/**
 * {@code paddock lora merge --base DIR --adapter DIR --out DIR [--dtype f16|bf16|f32]}: merges a PEFT LoRA adapter into
 * its base model ({@link LoraMerge}) and prints one summary line. Every mistake on the command line is one
 * {@link CliArgs.UsageException} line.
 */
public final class LoraCommand {
    public static final String USAGE = "usage: paddock lora merge --base DIR --adapter DIR --out DIR [--dtype f16|bf16|f32]";
    private static final Set<String> VALUED = Set.of("base", "adapter", "out", "dtype");

    private LoraCommand() {}

    public static int run(String[] args, PrintStream out) {
        if (args.length == 0) throw new CliArgs.UsageException("lora needs a subcommand: merge\n" + USAGE);
        if (!args[0].equals("merge")) {
            throw new CliArgs.UsageException("unknown lora subcommand '" + args[0] + "' (known: merge)\n" + USAGE);
        }
        CliArgs a = new CliArgs(Arrays.copyOfRange(args, 1, args.length), VALUED, Set.of());
        if (!a.positional().isEmpty()) throw new CliArgs.UsageException("unexpected argument '" + a.positional().getFirst() + "'");
        Path base = directory(a, "base", "the base model");
        Path adapter = directory(a, "adapter", "the PEFT adapter");
        String outDir = a.string("out", null);
        if (outDir == null) throw new CliArgs.UsageException("--out DIR is required (where the merged model is written)");
        Path outPath = Path.of(outDir);
        if (Files.exists(outPath) && !Files.isDirectory(outPath)) {
            throw new CliArgs.UsageException("--out " + outDir + ": exists and is not a directory");
        }
        DType dtype = dtype(a.string("dtype", null));
        LoraMerge.Result r;
        try {
            r = LoraMerge.merge(base, adapter, outPath, dtype);
        } catch (IllegalArgumentException e) {
            throw new CliArgs.UsageException(e.getMessage());
        }
        out.printf(Locale.ROOT, "wrote %s: %d linear layers merged, %d tensors as %s, %.1f MB%n", r.directory(),
                r.mergedLinears(), r.tensors(), r.dtype(), r.bytes() / 1e6);
        return 0;
    }

    private static Path directory(CliArgs a, String option, String what) {
        String v = a.string(option, null);
        if (v == null) throw new CliArgs.UsageException("--" + option + " DIR is required (" + what + ")\n" + USAGE);
        Path p = Path.of(v);
        if (!Files.isDirectory(p)) throw new CliArgs.UsageException("--" + option + " " + v + ": directory not found");
        return p;
    }

    private static DType dtype(String v) {
        if (v == null) return null;
        return switch (v.toLowerCase(Locale.ROOT)) {
            case "f16", "fp16", "float16" -> DType.F16;
            case "bf16", "bfloat16" -> DType.BF16;
            case "f32", "fp32", "float32" -> DType.F32;
            default -> throw new CliArgs.UsageException("--dtype must be f16, bf16 or f32, got '" + v + "'");
        };
    }
}
