package io.paddock.bench;

import java.util.List;

/** Summary statistics the benchmarks report: medians, robust to the outliers a shared machine produces. */
public final class Stats {
    private Stats() {}

    public static double median(List<Double> values) {
        double[] s = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        if (s.length == 0) throw new IllegalArgumentException("no samples");
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
