package io.paddock.model;

/**
 * A linear layer {@code y = x · Wᵀ} of a LLaMA block. The variants say how the weight is stored; the runtime
 * decides how to multiply with it. GPTQ-packed layers join this hierarchy as a second variant.
 */
public sealed interface Linear permits DenseLinear, GptqLinear {
    /** Number of input features (columns of W). */
    int inFeatures();

    /** Number of output features (rows of W). */
    int outFeatures();

    /** Bytes read from memory to apply this layer once to a batch (the weight is read once per step). */
    long weightBytes();
}
