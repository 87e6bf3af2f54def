package io.paddock.runtime.cuda;

import java.util.List;

/**
 * What the host believes about one kernel: the source file that defines it, its entry name, the parameter list it
 * packs for a launch (type and order) and the most threads per block any launcher uses. Tests hold this against
 * the PTX nvcc emits ({@code .param} lists) and ptxas' resource report (registers × threads per block).
 */
public record KernelSpec(String source, String name, List<Param> params, int maxBlockThreads) {

    /** A kernel parameter as the driver copies it: {@code bytes} from the host value, in PTX as {@code ptxType}. */
    public enum Param {
        /** a device address ({@code T*}, {@code const void*}) */
        PTR(8, ".u64"),
        /** {@code int} */
        INT(4, ".u32"),
        /** {@code long long} */
        LONG(8, ".u64"),
        /** {@code float} */
        FLOAT(4, ".f32"),
        /** {@code double} */
        DOUBLE(8, ".f64");

        public final int bytes;
        public final String ptxType;

        Param(int bytes, String ptxType) {
            this.bytes = bytes;
            this.ptxType = ptxType;
        }
    }

    public KernelSpec {
        params = List.copyOf(params);
        if (maxBlockThreads < 1 || maxBlockThreads > 1024) throw new IllegalArgumentException("maxBlockThreads " + maxBlockThreads);
    }

    /**
     * The raw bits of each argument, checked against the parameter list: a {@code Long} for {@link Param#PTR} and
     * {@link Param#LONG}, an {@code Integer} for {@link Param#INT}, a {@code Float} or {@code Double} for the rest.
     * A mismatch is a host bug and fails here, before the driver would read the wrong number of bytes.
     */
    public long[] pack(Object... args) {
        if (args.length != params.size()) {
            throw new IllegalArgumentException(name + " takes " + params.size() + " arguments, got " + args.length);
        }
        long[] raw = new long[args.length];
        for (int i = 0; i < args.length; i++) {
            Param p = params.get(i);
            raw[i] = switch (p) {
                case PTR, LONG -> args[i] instanceof Long v ? v : mismatch(i, p, args[i]);
                case INT -> args[i] instanceof Integer v ? v & 0xffff_ffffL : mismatch(i, p, args[i]);
                case FLOAT -> args[i] instanceof Float v ? Float.floatToRawIntBits(v) & 0xffff_ffffL : mismatch(i, p, args[i]);
                case DOUBLE -> args[i] instanceof Double v ? Double.doubleToRawLongBits(v) : mismatch(i, p, args[i]);
            };
        }
        return raw;
    }

    private long mismatch(int i, Param p, Object got) {
        throw new IllegalArgumentException(name + " argument " + i + " is " + p + ", got "
                + (got == null ? "null" : got.getClass().getSimpleName()));
    }
}
