package io.paddock.runtime.cpu;

import io.paddock.format.DType;
import java.lang.foreign.MemorySegment;

/**
 * A row-major weight matrix living off-heap (usually a slice of a memory-mapped safetensors file).
 *
 * @param data  (rows, cols) little-endian elements of {@code dtype}; need not be aligned
 * @param dtype F32, F16 or BF16
 * @param rows  out features
 * @param cols  in features
 */
public record DenseMatrix(MemorySegment data, DType dtype, int rows, int cols) {
    public DenseMatrix {
        if (rows < 0 || cols < 0) throw new IllegalArgumentException("negative shape " + rows + "x" + cols);
        if (dtype != DType.F32 && dtype != DType.F16 && dtype != DType.BF16) {
            throw new IllegalArgumentException("unsupported dense dtype " + dtype);
        }
        long need = (long) rows * cols * dtype.byteSize();
        if (data.byteSize() < need) {
            throw new IllegalArgumentException("segment holds " + data.byteSize() + " bytes, " + rows + "x" + cols
                    + " " + dtype + " needs " + need);
        }
    }

    /** Bytes one full pass over the matrix reads. */
    public long byteSize() {
        return (long) rows * cols * dtype.byteSize();
    }
}
