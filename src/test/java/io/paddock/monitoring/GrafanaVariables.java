package io.paddock.monitoring;

import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Replaces dashboard variables in a PromQL query the way Grafana's Prometheus data source does before it sends it.
 *
 * <p>Multi-value query variables ({@code $instance}, {@code $model}) are regex-escaped with a doubled backslash (one
 * for the PromQL string, one for the regex) and, with more than one value, joined as {@code (a|b)}.
 * {@code $__interval} is the panel's step: a 1 h range over about a thousand points is 5 s, raised to the data
 * source's scrape interval, whose default is 15 s. {@code $__rate_interval} is then max($__interval + scrape interval,
 * 4 × scrape interval) = 1m. An unknown variable is an error, so a typo cannot pass as a literal.
 */
final class GrafanaVariables {
    private static final Pattern VARIABLE = Pattern.compile("\\$\\{(\\w+)(?::\\w+)?}|\\[\\[(\\w+)]]|\\$(\\w+)");
    private static final Pattern REGEX_SPECIAL = Pattern.compile("[$^*{}\\[\\]'+?.()|\\\\]");

    private final Map<String, String> values;

    private GrafanaVariables(Map<String, String> values) {
        this.values = values;
    }

    /** Grafana's defaults (15 s scrape interval, 1 h range) with the given selections of the dashboard's variables. */
    static GrafanaVariables of(String datasourceUid, List<String> instances, List<String> models) {
        return new GrafanaVariables(Map.of("datasource", datasourceUid, "instance", multi(instances),
                "model", multi(models), "__interval", "15s", "__rate_interval", "1m", "__range", "1h"));
    }

    static String multi(List<String> selected) {
        List<String> escaped = selected.stream()
                .map(v -> REGEX_SPECIAL.matcher(v).replaceAll(m -> Matcher.quoteReplacement("\\\\" + m.group())))
                .toList();
        return escaped.size() == 1 ? escaped.getFirst() : escaped.stream().collect(Collectors.joining("|", "(", ")"));
    }

    String apply(String query) {
        return VARIABLE.matcher(query).replaceAll(m -> {
            String name = m.group(1) != null ? m.group(1) : m.group(2) != null ? m.group(2) : m.group(3);
            String value = values.get(name);
            if (value == null) throw new IllegalArgumentException("unknown dashboard variable $" + name + " in " + query);
            return Matcher.quoteReplacement(value);
        });
    }
}
