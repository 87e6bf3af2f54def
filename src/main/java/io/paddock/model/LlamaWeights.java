package io.paddock.model;

import io.paddock.format.Tensor;
import java.util.List;

/** All weights of a LLaMA causal LM, as views over the memory-mapped checkpoint. */
public record LlamaWeights(
        LlamaConfig config,
        Tensor embedding,          // (vocab, hidden), F32/F16/BF16
        List<LayerWeights> layers, // numLayers
        float[] finalNorm,         // (hidden)
        Linear lmHead) {           // (vocab, hidden); the embedding itself when tied

    /** Bytes read per decode step for one token: every linear weight once, plus one embedding row. */
    public long bytesPerToken() {
        long total = lmHead.weightBytes();
        for (LayerWeights l : layers) {
            for (Linear lin : List.of(l.q(), l.k(), l.v(), l.o(), l.gate(), l.up(), l.down())) {
                total += lin.weightBytes();
            }
        }
        return total + embedding.data().byteSize() / config.vocabSize();
    }
}
