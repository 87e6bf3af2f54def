package io.paddock.cli;

import io.paddock.model.GptqOverrides;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Minimal {@code --name value} / {@code --flag} parser that names the offending option on error. */
public final class CliArgs {
    private final Map<String, String> options = new HashMap<>();
    private final Map<String, List<String>> repeated = new HashMap<>(); // every value of an option, in order
    private final List<String> positional = new ArrayList<>();

    public CliArgs(String[] args, Set<String> valued, Set<String> flags) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.startsWith("--")) {
                String name = a.substring(2), value = null;
                int eq = name.indexOf('=');
                if (eq >= 0) {
                    value = name.substring(eq + 1);
                    name = name.substring(0, eq);
                }
                if (flags.contains(name) && value == null) {
                    options.put(name, "true");
                } else if (valued.contains(name)) {
                    if (value == null) {
                        if (i + 1 >= args.length) throw new UsageException("option --" + name + " needs a value");
                        value = args[++i];
                    }
                    options.put(name, value);
                    repeated.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
                } else {
                    throw new UsageException("unknown option --" + name);
                }
            } else {
                positional.add(a);
            }
        }
    }

    public List<String> positional() { return positional; }

    public boolean flag(String name) { return options.containsKey(name); }

    /** Every value given for a repeatable option. */
    public List<String> all(String name) { return repeated.getOrDefault(name, List.of()); }

    public String string(String name, String fallback) { return options.getOrDefault(name, fallback); }

    public Integer integer(String name, Integer fallback) {
        String v = options.get(name);
        if (v == null) return fallback;
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("option --" + name + " expects an integer, got '" + v + "'");
        }
    }

    public Long longValue(String name, Long fallback) {
        String v = options.get(name);
        if (v == null) return fallback;
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("option --" + name + " expects an integer, got '" + v + "'");
        }
    }

    public Float decimal(String name, Float fallback) {
        String v = options.get(name);
        if (v == null) return fallback;
        try {
            return Float.parseFloat(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("option --" + name + " expects a number, got '" + v + "'");
        }
    }

    /** The option names {@link #gptqOverrides()} reads, to add to a command's accepted options. */
    public static final Set<String> GPTQ_VALUED = Set.of("gptq-bits", "gptq-group-size");
    public static final Set<String> GPTQ_FLAGS = Set.of("gptq-act-order");

    /** GPTQ settings given by hand, for legacy checkpoints that carry no quantize config. */
    public GptqOverrides gptqOverrides() {
        return new GptqOverrides(integer("gptq-bits", null), integer("gptq-group-size", null),
                flag("gptq-act-order") ? Boolean.TRUE : null);
    }

    /** Union of option-name sets, for commands that share options. */
    public static Set<String> union(Set<String> a, Set<String> b) {
        HashSet<String> u = new HashSet<>(a);
        u.addAll(b);
        return Set.copyOf(u);
    }

    /** A mistake on the command line: printed as one line, exit code 2. */
    public static final class UsageException extends RuntimeException {
        public UsageException(String message) { super(message); }
    }
}
