package io.paddock.lora;

import java.nio.file.Path;
import java.util.Objects;

/**
 * A LoRA adapter read for one base model: per decoder layer and {@link LoraModule}, the pair to add, or null where the
 * adapter leaves that layer alone. {@code pairs[layer][module.ordinal()]}. Immutable once built; shared by every
 * runtime slot it is loaded into.
 */
public final class LoraAdapter {
    private final String name;
    private final Path source;
    private final AdapterConfig config;
    private final LoraPair[][] pairs;
    private final int maxRank;
    private final long bytes;

    public LoraAdapter(String name, Path source, AdapterConfig config, LoraPair[][] pairs) {
        this.name = Objects.requireNonNull(name, "name");
        this.source = source;
        this.config = Objects.requireNonNull(config, "config");
        this.pairs = new LoraPair[pairs.length][];
        int r = 0;
        long b = 0;
        for (int l = 0; l < pairs.length; l++) {
            if (pairs[l].length != LoraModule.values().length) {
                throw new IllegalArgumentException("layer " + l + " has " + pairs[l].length + " module slots, not 7");
            }
            this.pairs[l] = pairs[l].clone();
            for (LoraPair p : pairs[l]) {
                if (p != null) {
                    r = Math.max(r, p.rank());
                    b += p.bytes();
                }
            }
        }
        if (r == 0) throw new IllegalArgumentException("adapter '" + name + "' adapts no layer");
        this.maxRank = r;
        this.bytes = b;
    }

    /** The name requests use in their {@code model} field. */
    public String name() { return name; }

    /** Where it was read from (a directory), or null for one built in memory. */
    public Path source() { return source; }

    public AdapterConfig config() { return config; }

    public int numLayers() { return pairs.length; }

    /** The pair for {@code module} of {@code layer}, or null where the adapter does not touch it. */
    public LoraPair pair(int layer, LoraModule module) {
        return pairs[layer][module.ordinal()];
    }

    /** The largest rank of any pair. */
    public int maxRank() { return maxRank; }

    /** Bytes of all pairs as float32: what one resident copy costs. */
    public long bytes() { return bytes; }

    /** The same weights under another name (an adapter loaded twice under two names shares its arrays). */
    public LoraAdapter renamed(String newName) {
        return new LoraAdapter(newName, source, config, pairs);
    }

    @Override
    public String toString() {
        return "LoraAdapter[" + name + ", rank " + maxRank + ", " + pairs.length + " layers]";
    }
}
