package io.paddock.model;

import io.paddock.format.DType;
import io.paddock.format.Tensor;

/** A dense F32/F16/BF16 weight in torch {@code nn.Linear} layout, memory-mapped from the checkpoint. */
public record DenseLinear(Tensor weight /* (out, in) */) implements Linear {
    public DenseLinear {
        long[] s = weight.shape();
        if (s.length != 2) throw new IllegalArgumentException(weight.name() + " is not a matrix");
        DType t = weight.dtype();
        if (t != DType.F32 && t != DType.F16 && t != DType.BF16) {
            throw new IllegalArgumentException(weight.name() + " has unsupported dtype " + t);
        }
    }

    @Override public int inFeatures() { return (int) weight.shape()[1]; }
    @Override public int outFeatures() { return (int) weight.shape()[0]; }
    @Override public long weightBytes() { return weight.data().byteSize(); }
}
