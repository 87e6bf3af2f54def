package io.paddock.runtime.cpu;

import io.paddock.lora.LoraPair;

/**
 * One adapted linear layer as the CPU kernels read it: {@code a} [rank][in] as PEFT stores it (a row per rank, so
 * the shrink is {@code rank} dot products over the input) and B transposed to {@code bt} [rank][out] (so the expand
 * is {@code rank} vector adds over the output row).
 */
record LoraWeights(int rank, int in, int out, float[] a, float[] bt, float scale) {

    static LoraWeights of(LoraPair p) {
        float[] bt = new float[p.rank() * p.out()];
        for (int o = 0; o < p.out(); o++) {
            for (int j = 0; j < p.rank(); j++) bt[j * p.out() + o] = p.b()[o * p.rank() + j];
        }
        return new LoraWeights(p.rank(), p.in(), p.out(), p.a(), bt, p.scale());
    }
}
