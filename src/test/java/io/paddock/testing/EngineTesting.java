package io.paddock.testing;

import io.paddock.engine.EngineStats;
import io.paddock.engine.GenerationService;
import java.util.Arrays;

/** Small helpers the engine tests share: waiting for an engine to go idle, joining token arrays. */
public final class EngineTesting {
    private EngineTesting() {}

    /**
     * Polls (up to ~5 s) until nothing is pending, running or waiting and every KV block is back; returns the stats
     * then, or the last stats seen (the test's assertions say what was expected).
     */
    public static EngineStats awaitIdle(GenerationService g) throws InterruptedException {
        for (int i = 0; i < 500; i++) {
            EngineStats s = g.stats();
            if (g.pending() == 0 && s.running() == 0 && s.waiting() == 0 && s.blocksUsed() == 0) return s;
            Thread.sleep(10);
        }
        return g.stats();
    }

    /** The arrays one after another. */
    public static int[] concat(int[]... parts) {
        int n = 0;
        for (int[] p : parts) n += p.length;
        int[] out = new int[n];
        int at = 0;
        for (int[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }
}
