package io.paddock.runtime.cpu;

/**
 * How the fast kernel cuts a packed unit of GPTQ codes into "pieces" without shifting: each piece is one AND
 * (or, for the topmost bits of a word, one unsigned shift) of a word, converted to float as is. A piece at bit
 * offset {@code off} converts to {@code value · 2^off}; the activation it multiplies is pre-scaled by
 * {@code 2^-off} (exact: a power of two) once per call, so the hot loop does no per-weight shift.
 *
 * <p>A unit is {@code codes} values packed as the GPTQ bit stream (value j in bits [j·bits, (j+1)·bits)) over
 * {@code words} int32 words: 8/16/4 codes in one word for 4/2/8 bits, and 32 codes in three words for 3 bits,
 * where codes 10 and 21 straddle two words and become two pieces each (low part, and high part whose
 * activation factor also carries the part's weight inside the code, ×4 or ×2). The kernels in
 * {@link GptqTiles} hard-code the same masks piece by piece; this table is what the per-call activation gather
 * uses and what the tests check the kernels against.
 *
 * @param code   (pieces) which code of the unit the piece belongs to
 * @param factor (pieces) the factor applied to that code's activation
 */
record GptqPieces(int bits, int codes, int words, int[] code, float[] factor) {

    static GptqPieces of(int bits) {
        return switch (bits) {
            case 2 -> single(2);
            case 4 -> single(4);
            case 8 -> single(8);
            case 3 -> threeBit();
            default -> throw new IllegalArgumentException("GPTQ bits must be 2, 3, 4 or 8, got " + bits);
        };
    }

    int pieces() {
        return code.length;
    }

    /** 32/bits codes in one word: masks at 0, bits, 2·bits, ..., and the top code by an unsigned shift (factor 1). */
    private static GptqPieces single(int bits) {
        int n = 32 / bits;
        int[] code = new int[n];
        float[] factor = new float[n];
        for (int j = 0; j < n; j++) {
            code[j] = j;
            factor[j] = j == n - 1 ? 1f : Math.scalb(1f, -j * bits);
        }
        return new GptqPieces(bits, n, 1, code, factor);
    }

    /**
     * AutoGPTQ's 3-bit unit: word 0 holds codes 0-9 at 3j and the low two bits of code 10 at 30; word 1 the high
     * bit of code 10 at 0, codes 11-20 at 3(j-11)+1 and the low bit of code 21 at 31; word 2 the high two bits of
     * code 21 at 0 and codes 22-31 at 3(j-22)+2. Pieces that reach bit 31 are shifts: a masked value with the
     * sign bit set would convert to a negative float.
     */
    private static GptqPieces threeBit() {
        int[] code = new int[34];
        float[] factor = new float[34];
        int p = 0;
        for (int j = 0; j < 10; j++, p++) { code[p] = j; factor[p] = Math.scalb(1f, -3 * j); }
        code[p] = 10; factor[p++] = 1f;                 // word 0 >>> 30: bits 0-1 of code 10
        code[p] = 10; factor[p++] = 4f;                 // word 1 & 1: bit 2 of code 10
        for (int j = 11; j < 21; j++, p++) { code[p] = j; factor[p] = Math.scalb(1f, -(3 * (j - 11) + 1)); }
        code[p] = 21; factor[p++] = 1f;                 // word 1 >>> 31: bit 0 of code 21
        code[p] = 21; factor[p++] = 2f;                 // word 2 & 3: bits 1-2 of code 21
        for (int j = 22; j < 32; j++, p++) { code[p] = j; factor[p] = Math.scalb(1f, -(3 * (j - 22) + 2)); }
        factor[33] = 1f;                                // code 31 sits in bits 29-31: word 2 >>> 29
        return new GptqPieces(3, 32, 3, code, factor);
    }
}
