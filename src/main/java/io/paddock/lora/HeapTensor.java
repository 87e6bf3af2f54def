package io.paddock.lora;

import java.util.Arrays;

/** A small float tensor read onto the heap (an adapter's lora_A or lora_B), row-major, widened to float exactly. */
public record HeapTensor(long[] shape, float[] values) {
    public HeapTensor {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        if (n != values.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " needs " + n + " values, got " + values.length);
        }
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public String shapeString() {
        return Arrays.toString(shape);
    }
}
