package io.paddock.format;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;

/**
 * One tensor's bytes, viewed in place in the mapped file: nothing is copied onto the heap. The segment stays
 * valid until the {@link SafetensorsFile} or {@link WeightStore} that produced it is closed.
 *
 * @param data exactly this tensor's bytes, little-endian, row-major; not necessarily aligned
 */
public record Tensor(TensorInfo info, MemorySegment data) {

    public Tensor {
        Objects.requireNonNull(info, "info");
        Objects.requireNonNull(data, "data");
        if (data.byteSize() != info.byteSize()) {
            throw new IllegalArgumentException("tensor '" + info.name() + "': segment has " + data.byteSize()
                    + " bytes, header says " + info.byteSize());
        }
    }

    public DType dtype() {
        return info.dtype();
    }

    public long[] shape() {
        return info.shape();
    }

    public String name() {
        return info.name();
    }

    public long elementCount() {
        return info.elementCount();
    }

    /**
     * Element {@code index} (flat, row-major) widened to float. A convenience for tests, loaders and small
     * tensors (norms); hot loops should read {@link #data()} with a fixed layout instead of switching per element.
     */
    public float getFloat(long index) {
        return switch (info.dtype()) {
            case F32 -> data.getAtIndex(LittleEndian.F32, index);
            case F16 -> HalfFloats.f16ToFloat(data.getAtIndex(LittleEndian.I16, index));
            case BF16 -> HalfFloats.bf16ToFloat(data.getAtIndex(LittleEndian.I16, index));
            case F64 -> (float) data.getAtIndex(LittleEndian.F64, index);
            default -> throw new UnsupportedOperationException(
                    "tensor '" + name() + "' has dtype " + dtype() + ", not a float type");
        };
    }

    /** Element {@code index} of an integer or bool tensor (I64 must fit in an int). */
    public int getInt(long index) {
        return switch (info.dtype()) {
            case I32 -> data.getAtIndex(LittleEndian.I32, index);
            case I16 -> data.getAtIndex(LittleEndian.I16, index);
            case I8 -> data.get(ValueLayout.JAVA_BYTE, index);
            case U8, BOOL -> data.get(ValueLayout.JAVA_BYTE, index) & 0xFF;
            case I64 -> Math.toIntExact(data.getAtIndex(LittleEndian.I64, index));
            default -> throw new UnsupportedOperationException(
                    "tensor '" + name() + "' has dtype " + dtype() + ", not an integer type");
        };
    }

    /**
     * Copies row {@code row} of a 2-D float tensor (rows, cols) into {@code out[off..off+cols)}, widened to float:
     * one embedding row per token, never a whole matrix.
     */
    public void copyRow(int row, float[] out, int off) {
        int cols = Math.toIntExact(info.shape()[1]);
        long base = (long) row * cols;
        if (dtype() == DType.F32) {
            MemorySegment.copy(data, LittleEndian.F32, base * 4, out, off, cols);
            return;
        }
        for (int c = 0; c < cols; c++) out[off + c] = getFloat(base + c);
    }

    /** Copies the tensor, widened to float, onto the heap: only for small tensors (norm weights, tests). */
    public float[] toFloatArray() {
        float[] out = new float[Math.toIntExact(elementCount())];
        for (int i = 0; i < out.length; i++) out[i] = getFloat(i);
        return out;
    }

    /** Copies an integer tensor onto the heap: only for small tensors (g_idx, tests). */
    public int[] toIntArray() {
        int[] out = new int[Math.toIntExact(elementCount())];
        for (int i = 0; i < out.length; i++) out[i] = getInt(i);
        return out;
    }

    @Override
    public String toString() {
        return "Tensor[" + info + "]";
    }
}
