package io.paddock.sampling;

import java.util.SplittableRandom;

/**
 * Rough per-token cost at a 32000 vocabulary (not a test; run by hand):
 * {@code java --class-path target/classes:target/test-classes io.paddock.sampling.SamplerBenchmark}.
 */
final class SamplerBenchmark {
    private SamplerBenchmark() {}

    public static void main(String[] args) {
        int vocab = 32000;
        var rnd = new SplittableRandom(1);
        float[] peaked = new float[vocab];
        float[] flat = new float[vocab];
        for (int i = 0; i < vocab; i++) {
            peaked[i] = (float) (rnd.nextGaussian() * 3);
            flat[i] = (float) (rnd.nextGaussian() * 0.3);
        }
        var b = SamplingParams.builder().seed(1L);
        run("greedy", SamplingParams.greedy(), peaked);
        run("T=1 (full softmax)", b.build(), peaked);
        run("top-k 40", b.topK(40).build(), peaked);
        run("top-k 40 + top-p 0.9", b.topK(40).topP(0.9f).build(), peaked);
        run("top-p 0.9 (peaked)", b.topK(0).topP(0.9f).build(), peaked);
        run("top-p 0.9 (flat)", b.topK(0).topP(0.9f).build(), flat);
        run("min-p 0.05", b.topP(1f).minP(0.05f).build(), peaked);
        run("greedy + logprobs 5", SamplingParams.builder().temperature(0f).logprobs(5).build(), peaked);
        run("rep 1.15 + freq 0.5 + logprobs 5", b.minP(0f).repetitionPenalty(1.15f).frequencyPenalty(0.5f).logprobs(5).build(), peaked);
    }

    private static void run(String name, SamplingParams params, float[] logits) {
        var sampler = new Sampler(params, logits.length);
        sampler.acceptPrompt(new int[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
        float[] work = new float[logits.length];
        int iters = 3000;
        long best = Long.MAX_VALUE;
        for (int round = 0; round < 5; round++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < iters; i++) {
                System.arraycopy(logits, 0, work, 0, logits.length);
                sampler.sampleWithLogprobs(work);
            }
            best = Math.min(best, (System.nanoTime() - t0) / iters);
        }
        System.out.printf("%-36s %8.1f us/token%n", name, best / 1000.0);
    }
}
