package io.paddock.lora;

import io.paddock.model.LayerWeights;
import io.paddock.model.Linear;
import java.util.Optional;

/**
 * The seven linear layers of a LLaMA decoder layer a LoRA adapter may target, by their PEFT names ({@code q_proj} ...)
 * and the submodule PEFT's saved keys put them under ({@code self_attn} or {@code mlp}).
 */
public enum LoraModule {
    Q("q_proj", "self_attn"),
    K("k_proj", "self_attn"),
    V("v_proj", "self_attn"),
    O("o_proj", "self_attn"),
    GATE("gate_proj", "mlp"),
    UP("up_proj", "mlp"),
    DOWN("down_proj", "mlp");

    private final String peftName;
    private final String parent;

    LoraModule(String peftName, String parent) {
        this.peftName = peftName;
        this.parent = parent;
    }

    /** The module's name in {@code target_modules} and in tensor keys, e.g. {@code q_proj}. */
    public String peftName() { return peftName; }

    /** The submodule of a decoder layer that holds it: {@code self_attn} or {@code mlp}. */
    public String parent() { return parent; }

    /** The module a PEFT name denotes, if it is one of the seven. */
    public static Optional<LoraModule> ofPeftName(String name) {
        for (LoraModule m : values()) if (m.peftName.equals(name)) return Optional.of(m);
        return Optional.empty();
    }

    /** The base layer this module adapts in {@code layer}. */
    public Linear of(LayerWeights layer) {
        return switch (this) {
            case Q -> layer.q();
            case K -> layer.k();
            case V -> layer.v();
            case O -> layer.o();
            case GATE -> layer.gate();
            case UP -> layer.up();
            case DOWN -> layer.down();
        };
    }
}
