package io.paddock.model;

/** One decoder block's weights. Norm weights are tiny and live on the heap; linear layers stay mapped. */
public record LayerWeights(
        float[] attentionNorm, // (hidden)
        Linear q,              // (heads*headDim, hidden)
        Linear k,              // (kvHeads*headDim, hidden)
        Linear v,              // (kvHeads*headDim, hidden)
        Linear o,              // (hidden, heads*headDim)
        float[] mlpNorm,       // (hidden)
        Linear gate,           // (intermediate, hidden)
        Linear up,             // (intermediate, hidden)
        Linear down) {         // (hidden, intermediate)
}
