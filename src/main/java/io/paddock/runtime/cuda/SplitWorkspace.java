package io.paddock.runtime.cuda;

/**
 * Device scratch for split-K without atomics into y and without a memset: each slice of a split GPTQ launch writes
 * its partial sums to {@code partials} (fp32, (slices, rows, out)), counts itself on its output tile's int in
 * {@code counters}, and the slice that counts last adds the partials in slice order (so the result does not depend on
 * which slice finished first), writes y and sets the counter back to zero. The counters must be zero when the
 * workspace is first used (the allocation is cleared once); kernels leave them zero. Launches on one stream share
 * one workspace.
 *
 * @param partialFloats capacity of {@code partials} in floats
 * @param counterCount  ints at {@code counters}: a split launch needs one per output tile
 */
record SplitWorkspace(long partials, long partialFloats, long counters, int counterCount) {
    /** No workspace: every launch runs unsplit. */
    static final SplitWorkspace NONE = new SplitWorkspace(0, 0, 0, 0);

    /**
     * The K slices a launch of {@code rows × out} outputs over {@code tiles} output tiles may use: {@code wanted}
     * where the partials fit and there is a counter per tile, fewer where only fewer fit, 1 without a workspace.
     */
    int slices(int wanted, int rows, int out, int tiles) {
        if (wanted <= 1 || tiles > counterCount) return 1;
        long fit = partialFloats / Math.max(1L, (long) rows * out);
        return (int) Math.max(1, Math.min(wanted, fit));
    }
}
