package io.paddock.runtime.cpu;

/**
 * How the fast kernel cuts a packed word of GPTQ codes into "pieces" without shifting: each piece is one AND of
 * the word with the code's mask (or, for a code reaching bit 31, one unsigned shift), converted to float as is.
 * A masked code at bit offset {@code off} converts to {@code q · 2^off}; the activation it multiplies is
 * pre-scaled by {@code 2^-off} (exact: a power of two) once per call, so the hot loop does no per-weight shift.
 *
 * <p>A unit is one int32 word of the {@link GptqMatrix} tiles holding {@code codes} values, value j in bits
 * [j·bits, (j+1)·bits): 16/8/4 codes for 2/4/8 bits, exactly the GPTQ stream. For 3 bits the matrix is repacked
 * at load time to ten codes per word (bits 30-31 unused, 3.2 bits per weight, groups padded to multiples of ten
 * codes): AutoGPTQ's own layout packs 32 codes into three words with two codes straddling word boundaries, and
 * its kernel (34 pieces, ~30 distinct masks) measured 1.7-2.5 times slower per weight than the 4-bit one, so it
 * lost to 4 bits despite reading fewer bytes. With ten codes in one word, 3 bits runs the 4-bit loop shape.
 *
 * @param code   (pieces) which code of the unit the piece belongs to
 * @param factor (pieces) the factor applied to that code's activation
 */
record GptqPieces(int bits, int codes, int[] code, float[] factor) {

    static GptqPieces of(int bits) {
        if (bits != 2 && bits != 3 && bits != 4 && bits != 8) {
            throw new IllegalArgumentException("GPTQ bits must be 2, 3, 4 or 8, got " + bits);
        }
        int n = 32 / bits;
        boolean topShift = n * bits == 32;    // the top code's mask would hold the sign bit: shift instead
        int[] code = new int[n];
        float[] factor = new float[n];
        for (int j = 0; j < n; j++) {
            code[j] = j;
            factor[j] = topShift && j == n - 1 ? 1f : Math.scalb(1f, -j * bits);
        }
        return new GptqPieces(bits, n, code, factor);
    }

    int pieces() {
        return code.length;
    }

    /** Packed words per unit: always one (kept as a name for the tile arithmetic). */
    int words() {
        return 1;
    }
}
