package io.paddock.bench;

import java.util.ArrayList;
import java.util.List;

/** Samples of a Prometheus text exposition ({@code name{labels} value} lines), enough to read a scrape back. */
public record PrometheusText(List<Sample> samples) {

    /** One line: the metric name, its label set as written (without braces), and the value. */
    public record Sample(String name, String labels, double value) {}

    public static PrometheusText parse(String text) {
        List<Sample> out = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) continue;
            int brace = line.indexOf('{');
            int space = brace >= 0 ? line.indexOf(' ', line.lastIndexOf('}')) : line.indexOf(' ');
            if (space < 0) continue;
            String name = brace >= 0 && brace < space ? line.substring(0, brace) : line.substring(0, space);
            String labels = brace >= 0 && brace < space ? line.substring(brace + 1, line.lastIndexOf('}', space)) : "";
            String value = line.substring(space + 1).trim().split(" ")[0];
            try {
                out.add(new Sample(name, labels, Double.parseDouble(value)));
            } catch (NumberFormatException e) {
                // "NaN" parses; anything else is not a sample line
            }
        }
        return new PrometheusText(out);
    }

    /** The sum of every sample named {@code name} (all label sets); 0 when there is none. */
    public double sum(String name) {
        return samples.stream().filter(s -> s.name().equals(name)).mapToDouble(Sample::value).sum();
    }

    /** Whether any sample is named {@code name}. */
    public boolean has(String name) {
        return samples.stream().anyMatch(s -> s.name().equals(name));
    }
}
