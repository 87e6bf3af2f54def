package io.paddock.runtime.cuda;

import static io.paddock.runtime.cuda.GpuCheckBench.round;

import io.paddock.bench.SyntheticShape;
import io.paddock.model.LlamaConfig;
import io.paddock.runtime.KvCacheDtype;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The GPU targets of docs/gpu-kernels.md, judged from one {@link GpuCheckBench} result (and printed by
 * {@link GpuCheckReport}): each says what was measured, the goal, and met / missed / not measured.
 *
 * <ol>
 *   <li>batch-1 decode of the 7B 4-bit g128 model streams ≥ 75 % of the copy bandwidth: bytes a token must read (every
 *       weight but the embedding table, one embedding row, the KV of the context) × tokens/s ÷ copy GB/s, from the
 *       full-depth figure (measured, or the linear estimate through the cut model);</li>
 *   <li>32 streams decode ≥ 8× the batch-1 tokens/s (same model);</li>
 *   <li>the quantized GEMM at 16 rows ≥ 3.5× an fp16 GEMM of the same shape, taken as an ideal fp16 GEMM: one launch
 *       (the performance model's fixed cost, which any real fp16 GEMM call pays too) streaming its weights (2 bytes
 *       each) once at the copy rate; the ratio to the floor without the launch is reported beside it;</li>
 *   <li>LLaMA-65B 4-bit g128 fits this device's memory with ≥ 8k tokens of fp16 KV (the CUDA default;
 *       {@link GpuMemoryPlan} from figures).</li>
 * </ol>
 */
final class GpuCheckTargets {
    private GpuCheckTargets() {}

    static final double DECODE_FRACTION = 0.75;
    static final double STREAMS_32_RATIO = 8.0;
    static final double GEMM_16_RATIO = 3.5;
    static final long KV_TOKENS_65B = 8192;

    /** The LLaMA config of a synthetic shape (the figures GpuFootprint and GpuMemoryPlan need). */
    static LlamaConfig config(SyntheticShape s) {
        return new LlamaConfig(s.hidden(), s.intermediate(), s.layers(), s.heads(), s.kvHeads(), s.headDim(), s.vocab(),
                s.maxPositions(), (float) s.rmsNormEps(), 10000f, false, 1, 2, List.of(2), "float16", null);
    }

    /** Bytes one decode token reads at batch 1: weights without the embedding table, one embedding row, the KV. */
    static long bytesPerToken(SyntheticShape s, int bits, int groupSize, int contextTokens) {
        LlamaConfig c = config(s);
        long weights = GpuFootprint.weightBytes(c, bits, groupSize, true);
        long embeddingTable = (long) c.vocabSize() * c.hiddenSize() * 2;
        return weights - embeddingTable + (long) c.hiddenSize() * 2
                + (long) contextTokens * GpuFootprint.kvBytesPerToken(c, KvCacheDtype.F16);
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> evaluate(Map<String, Object> bench, long deviceMemoryBytes, int bits, int groupSize,
            int promptTokens, int decodeSteps) {
        List<Map<String, Object>> out = new ArrayList<>();
        Map<String, Object> copy = (Map<String, Object>) bench.get("copy");
        double copyGbps = copy != null && copy.get("gbPerSecondBest") instanceof Number n ? n.doubleValue() : Double.NaN;

        // 1 and 2: the synthetic 7B, full depth.
        Map<String, Object> full = null;
        for (Map<String, Object> e : (List<Map<String, Object>>) bench.getOrDefault("endToEnd", List.of())) {
            if (!String.valueOf(e.get("model")).contains(SyntheticShape.LLAMA_7B.name())) continue;
            if (e.get("layers") instanceof Number l && l.intValue() == SyntheticShape.LLAMA_7B.layers()) full = e;
            else if (e.get("estimatedFullDepth") instanceof Map<?, ?> est) full = (Map<String, Object>) est;
        }
        double tok1 = decodeRate(full, 1), tok32 = decodeRate(full, 32);
        String source = full == null ? null : full.containsKey("method") ? "estimate: " + full.get("method") : "measured";
        int context = promptTokens + decodeSteps / 2;
        long perToken = bytesPerToken(SyntheticShape.LLAMA_7B, bits, groupSize, context);
        double fraction = Double.isNaN(tok1) || Double.isNaN(copyGbps) ? Double.NaN : perToken * tok1 / (copyGbps * 1e9);
        // The performance model's whole decode step for the same model, context and device (graphed, as measured).
        int sms = bench.get("device") instanceof Map<?, ?> dev && dev.get("multiprocessors") instanceof Number n
                ? n.intValue() : GpuPerfModel.DeviceSpec.H100_SXM.sms();
        GpuPerfModel.DeviceSpec spec = GpuPerfModel.DeviceSpec.H100_SXM.withMeasured(sms,
                Double.isNaN(copyGbps) ? GpuPerfModel.DeviceSpec.H100_SXM.copyGbps() : copyGbps);
        double model1 = GpuPerfModel.decodeStep(spec, GpuPerfModel.Model.LLAMA_7B, 1, context, true,
                CudaKernels.GEMM_FROM_ROWS).tokensPerSecond();
        double model32 = GpuPerfModel.decodeStep(spec, GpuPerfModel.Model.LLAMA_7B, 32, context, true,
                CudaKernels.GEMM_FROM_ROWS).tokensPerSecond();
        Map<String, Object> t1 = target("batch-1 decode, 7B " + bits + "-bit g" + groupSize
                        + ", bytes per token × tokens/s ÷ copy", fraction, DECODE_FRACTION, "×",
                String.format(java.util.Locale.ROOT, "%.1f MB per token (weights without the embedding table, one "
                                + "embedding row, KV of ~%d tokens), %s tok/s (model %s), copy %s GB/s%s", perToken / 1e6,
                        context, num(tok1), num(model1), num(copyGbps), source == null ? "" : " (" + source + ")"));
        t1.put("modelTokensPerSecond", round(model1));
        out.add(t1);
        Map<String, Object> t32 = target("32-stream decode ÷ batch-1 decode, 7B", tok32 / tok1, STREAMS_32_RATIO, "×",
                num(tok32) + " vs " + num(tok1) + " tok/s (model " + num(model32) + " vs " + num(model1) + ")"
                        + (source == null ? "" : " (" + source + ")"));
        t32.put("modelRatio", round(model32 / model1));
        out.add(t32);

        // 3: the quantized GEMM at 16 rows against an ideal one-launch fp16 GEMM (and the floor without the launch).
        double worst = Double.NaN, worstFloor = Double.NaN;
        StringBuilder how = new StringBuilder();
        for (Map<String, Object> k : (List<Map<String, Object>>) bench.getOrDefault("kernels", List.of())) {
            if (!(k.get("batch") instanceof Number b) || b.intValue() != 16) continue;
            if (!String.valueOf(k.get("kernel")).startsWith("gptq")) continue;
            String[] io = String.valueOf(k.get("shape")).split("→");
            if (io.length != 2 || !(k.get("usPerCall") instanceof Number us) || Double.isNaN(copyGbps)) continue;
            long in = Long.parseLong(io[0].trim()), o = Long.parseLong(io[1].trim());
            double fp16Us = GpuPerfModel.fp16GemmUs(spec, in, o, true);
            double floorUs = GpuPerfModel.fp16GemmUs(spec, in, o, false);
            worst = Double.isNaN(worst) ? fp16Us / us.doubleValue() : Math.min(worst, fp16Us / us.doubleValue());
            worstFloor = Double.isNaN(worstFloor) ? floorUs / us.doubleValue()
                    : Math.min(worstFloor, floorUs / us.doubleValue());
            if (!how.isEmpty()) how.append("; ");
            how.append(k.get("kernel")).append(' ').append(k.get("shape")).append(": ").append(num(us)).append(" µs vs ")
                    .append(num(round(fp16Us))).append(" µs (fp16, one launch of ").append(num(spec.launchUs()))
                    .append(" µs) / ").append(num(round(floorUs))).append(" µs (floor, no launch)");
        }
        Map<String, Object> t3 = target("quantized GEMM at 16 rows ÷ ideal one-launch fp16 GEMM (worst shape)", worst,
                GEMM_16_RATIO, "×", how.isEmpty() ? "no 16-row GPTQ figure" : how.toString());
        t3.put("againstFloorWithoutLaunch", Double.isNaN(worstFloor) ? null : round(worstFloor));
        out.add(t3);

        // 4: 65B on this device.
        out.add(fits65B(deviceMemoryBytes, bits, groupSize));
        return out;
    }

    /** Target 4 from figures alone: the memory plan of LLaMA-65B for a device of {@code memoryBytes}. */
    static Map<String, Object> fits65B(long memoryBytes, int bits, int groupSize) {
        LlamaConfig c = config(SyntheticShape.LLAMA_65B);
        String name = "LLaMA-65B " + bits + "-bit g" + groupSize + " fits with ≥ 8k tokens of KV";
        if (memoryBytes <= 0) return target(name, Double.NaN, KV_TOKENS_65B, "tokens", "no device memory figure");
        try {
            GpuMemoryPlan plan = GpuMemoryPlan.plan(new GpuMemoryPlan.Device("this device", memoryBytes, memoryBytes),
                    new GpuMemoryPlan.Model("llama-65b", c, GpuFootprint.weightBytes(c, bits, groupSize, true)),
                    new GpuMemoryPlan.StepLimits(512, 32),
                    new GpuMemoryPlan.KvPolicy(16, 2048, Integer.MAX_VALUE / 4096, GpuMemoryPlan.DEFAULT_UTILIZATION, 0,
                            KvCacheDtype.F16));
            return target(name, plan.kvTokens(), KV_TOKENS_65B, "tokens", plan.summary());
        } catch (GpuMemoryPlanException e) {
            return target(name, 0, KV_TOKENS_65B, "tokens", e.getMessage());
        }
    }

    private static double decodeRate(Map<String, Object> e, int batch) {
        if (e == null) return Double.NaN;
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> decode = (List<Map<String, Object>>) e.getOrDefault("decode", List.of());
        for (Map<String, Object> d : decode) {
            if (d.get("batch") instanceof Number b && b.intValue() == batch && d.get("tokensPerSecond") instanceof Number t) {
                return t.doubleValue();
            }
        }
        return Double.NaN;
    }

    private static Map<String, Object> target(String name, double measured, double goal, String unit, String how) {
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("target", name);
        t.put("measured", Double.isNaN(measured) || Double.isInfinite(measured) ? null : round(measured));
        t.put("goal", goal);
        t.put("unit", unit);
        t.put("verdict", Double.isNaN(measured) || Double.isInfinite(measured) ? "not measured"
                : measured >= goal ? "met" : "missed");
        t.put("how", how);
        return t;
    }

    private static String num(Object o) {
        return o instanceof Number n && !Double.isNaN(n.doubleValue()) ? String.valueOf(round(n.doubleValue())) : "?";
    }
}
