package io.paddock.bench;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** Command-line parsing for {@code synth}; every mistake is one {@link IllegalArgumentException} line. */
final class SyntheticCommand {
    private static final Set<String> VALUED = Set.of("shape", "bits", "group-size", "layers", "dtype", "seed", "out");
    private static final Set<String> FLAGS = Set.of("act-order", "help");

    /** @param note appended to the summary line, e.g. options ignored for F16 */
    record Parsed(SyntheticSpec spec, Path out, String note) {}

    private SyntheticCommand() {}

    /** The parsed command, or null for {@code --help}. */
    static Parsed parse(String[] args) {
        Map<String, String> o = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--")) throw new IllegalArgumentException("unexpected argument '" + a + "'");
            String name = a.substring(2), value = null;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            if (FLAGS.contains(name)) {
                if (value != null && !value.equals("true") && !value.equals("false")) {
                    throw new IllegalArgumentException("--" + name + " takes no value, got '" + value + "'");
                }
                o.put(name, value == null ? "true" : value);
            } else if (VALUED.contains(name)) {
                if (value == null) {
                    if (i + 1 >= args.length || args[i + 1].startsWith("--")) {
                        throw new IllegalArgumentException("--" + name + " needs a value");
                    }
                    value = args[++i];
                }
                o.put(name, value);
            } else {
                throw new IllegalArgumentException("unknown option --" + name + " (" + SyntheticCheckpoint.USAGE + ")");
            }
        }
        if (o.containsKey("help")) return null;
        if (!o.containsKey("shape")) throw new IllegalArgumentException("--shape is required (" + shapes() + ")");
        if (!o.containsKey("out")) throw new IllegalArgumentException("--out DIR is required");
        SyntheticShape shape;
        try {
            shape = SyntheticShape.byName(o.get("shape"));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--shape: " + e.getMessage());
        }
        String dtype = o.getOrDefault("dtype", "gptq").toLowerCase(Locale.ROOT);
        SyntheticSpec.Format format = switch (dtype) {
            case "gptq" -> SyntheticSpec.Format.GPTQ;
            case "f16", "float16", "fp16" -> SyntheticSpec.Format.F16;
            default -> throw new IllegalArgumentException("--dtype must be gptq or f16, got '" + o.get("dtype") + "'");
        };
        int bits = integer(o, "bits", 4), groupSize = integer(o, "group-size", 128);
        boolean actOrder = Boolean.parseBoolean(o.getOrDefault("act-order", "false"));
        int layers = integer(o, "layers", shape.layers());
        long seed = longValue(o, "seed", 0);
        if (layers <= 0) throw new IllegalArgumentException("--layers must be positive, got " + layers);
        String note = "";
        if (format == SyntheticSpec.Format.GPTQ) {
            if (bits != 2 && bits != 3 && bits != 4 && bits != 8) {
                throw new IllegalArgumentException("--bits must be 2, 3, 4 or 8, got " + bits);
            }
            if (groupSize != -1 && groupSize <= 0) {
                throw new IllegalArgumentException("--group-size must be -1 (no groups) or positive, got " + groupSize);
            }
        } else if (o.containsKey("bits") || o.containsKey("group-size") || o.containsKey("act-order")) {
            note = " (--bits/--group-size/--act-order ignored with --dtype f16)";
        }
        SyntheticSpec spec;
        try {
            spec = new SyntheticSpec(shape, layers, format, bits, groupSize, actOrder, seed);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--group-size " + groupSize + ": " + e.getMessage());
        }
        return new Parsed(spec, Path.of(o.get("out")), note);
    }

    private static String shapes() {
        return String.join(", ", SyntheticShape.ALL.stream().map(SyntheticShape::name).toList());
    }

    private static int integer(Map<String, String> o, String name, int fallback) {
        String v = o.get(name);
        if (v == null) return fallback;
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " expects an integer, got '" + v + "'");
        }
    }

    private static long longValue(Map<String, String> o, String name, long fallback) {
        String v = o.get(name);
        if (v == null) return fallback;
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " expects an integer, got '" + v + "'");
        }
    }
}
