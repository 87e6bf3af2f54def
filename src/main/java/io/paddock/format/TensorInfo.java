package io.paddock.format;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;

/**
 * Where one tensor lies in a safetensors file.
 *
 * @param shape      dimensions, outermost first (row-major); an empty array is a scalar
 * @param file       the safetensors file holding the data
 * @param dataOffset absolute byte offset of the first element in {@code file} (header included)
 * @param byteSize   number of data bytes: elementCount() * dtype.byteSize()
 */
public record TensorInfo(String name, DType dtype, long[] shape, Path file, long dataOffset, long byteSize) {

    public TensorInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(file, "file");
        shape = shape.clone(); // records expose their array; keep ours unshared
    }

    /** A copy: callers may not change the recorded shape. */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    /** Size of dimension {@code i}; avoids the copy that {@link #shape()} makes. */
    public long dim(int i) {
        return shape[i];
    }

    public long elementCount() {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        return n;
    }

    /** The shape as safetensors tools print it, e.g. {@code [64, 32]}. */
    public String shapeString() {
        return Arrays.toString(shape);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t
                && name.equals(t.name)
                && dtype == t.dtype
                && Arrays.equals(shape, t.shape)
                && file.equals(t.file)
                && dataOffset == t.dataOffset
                && byteSize == t.byteSize;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, dtype, Arrays.hashCode(shape), file, dataOffset, byteSize);
    }

    @Override
    public String toString() {
        return "TensorInfo[" + name + " " + dtype + " " + shapeString() + " @" + dataOffset + "+" + byteSize
                + " in " + file.getFileName() + "]";
    }
}
