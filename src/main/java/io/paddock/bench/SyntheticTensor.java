package io.paddock.bench;

import io.paddock.format.DType;
import io.paddock.format.SafetensorsWriter;

/** One tensor of a synthetic checkpoint: what the header declares, and the callback that streams its bytes. */
public record SyntheticTensor(String name, DType dtype, long[] shape, SafetensorsWriter.TensorBytes bytes) {
    public SyntheticTensor {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public long byteSize() {
        long n = dtype.byteSize();
        for (long d : shape) n = Math.multiplyExact(n, d);
        return n;
    }
}
