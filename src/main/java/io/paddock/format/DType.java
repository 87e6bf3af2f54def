package io.paddock.format;

import java.util.Arrays;
import java.util.Locale;

/** Element types of safetensors tensors, named as in the safetensors header. */
public enum DType {
    F64(8),
    F32(4),
    F16(2),
    BF16(2),
    I64(8),
    I32(4),
    I16(2),
    I8(1),
    U8(1),
    BOOL(1);

    private final int byteSize;

    DType(int byteSize) {
        this.byteSize = byteSize;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    public boolean isFloatingPoint() {
        return this == F64 || this == F32 || this == F16 || this == BF16;
    }

    /** The name the safetensors header uses for this type. */
    public String safetensorsName() {
        return name();
    }

    /**
     * The type for a header's {@code dtype} string.
     *
     * @throws IllegalArgumentException for a type this reader does not support (e.g. F8_E4M3, U32)
     */
    public static DType parse(String safetensorsName) {
        if (safetensorsName != null) {
            String upper = safetensorsName.toUpperCase(Locale.ROOT);
            for (DType t : values()) {
                if (t.name().equals(upper)) return t;
            }
        }
        throw new IllegalArgumentException(
                "unsupported dtype '" + safetensorsName + "' (supported: " + Arrays.toString(values()) + ")");
    }
}
