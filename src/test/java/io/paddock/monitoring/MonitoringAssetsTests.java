package io.paddock.monitoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * The monitoring assets without a Prometheus: the dashboard is importable JSON whose panels all query something,
 * templated on the data source, instance and model; every paddock metric it or the rules name is documented.
 * {@code PrometheusQueriesIT} runs the same queries against a real Prometheus.
 */
class MonitoringAssetsTests {
    /** A metric name, not the {@code paddock_} inside a recording rule's {@code level:metric:operations} name. */
    private static final Pattern PADDOCK_METRIC = Pattern.compile("(?<![\\w:])paddock_[a-z0-9_]+");
    private static final Pattern HISTOGRAM_SERIES = Pattern.compile("_(bucket|count|sum)$");

    @Test
    void dashboardIsTemplatedOnDataSourceInstanceAndModel() throws Exception {
        JsonNode dashboard = MonitoringAssets.dashboard();
        assertThat(dashboard.path("uid").asString()).isNotBlank();
        assertThat(dashboard.path("title").asString()).isNotBlank();
        assertThat(dashboard.path("id").isNull()).as("id is null so the import creates a new dashboard").isTrue();

        var variables = MonitoringAssets.variables(dashboard);
        assertThat(variables).extracting(MonitoringAssets.Variable::name).contains("datasource", "instance", "model");
        var datasource = variables.stream().filter(v -> v.name().equals("datasource")).findFirst().orElseThrow();
        assertThat(datasource.type()).isEqualTo("datasource");
        assertThat(datasource.query()).isEqualTo("prometheus");
        for (String name : List.of("instance", "model")) {
            var v = variables.stream().filter(x -> x.name().equals(name)).findFirst().orElseThrow();
            assertThat(v.type()).isEqualTo("query");
            assertThat(v.query()).as(name).startsWith("label_values(").endsWith(", " + name + ")");
        }
    }

    @Test
    void everyPanelQueriesPrometheusThroughTheDataSourceVariable() throws Exception {
        JsonNode dashboard = MonitoringAssets.dashboard();
        int queried = 0;
        for (JsonNode panel : MonitoringAssets.panels(dashboard)) {
            String title = panel.path("title").asString();
            if (panel.path("type").asString().equals("row")) continue;
            assertThat(panel.path("targets").size()).as("targets of %s", title).isPositive();
            assertThat(panel.path("datasource").path("uid").asString()).as(title).isEqualTo("${datasource}");
            assertThat(panel.path("description").asString()).as("description of %s", title).isNotBlank();
            for (JsonNode target : panel.path("targets")) {
                assertThat(target.path("expr").asString()).as("expr of %s %s", title, target.path("refId")).isNotBlank();
                queried++;
            }
        }
        assertThat(queried).isEqualTo(MonitoringAssets.panelQueries(dashboard).size()).isGreaterThan(20);

        // The panels the dashboard promises.
        assertThat(MonitoringAssets.panelQueries(dashboard)).extracting(MonitoringAssets.PanelQuery::expr)
                .anyMatch(e -> e.contains("paddock_prompt_tokens_total"))
                .anyMatch(e -> e.contains("paddock_generation_tokens_total"))
                .anyMatch(e -> e.contains("histogram_quantile(0.99") && e.contains("paddock_time_to_first_token_seconds_bucket"))
                .anyMatch(e -> e.contains("paddock_inter_token_latency_seconds_bucket"))
                .anyMatch(e -> e.contains("paddock_request_duration_seconds_bucket"))
                .anyMatch(e -> e.contains("paddock_requests_running"))
                .anyMatch(e -> e.contains("paddock_requests_waiting"))
                .anyMatch(e -> e.contains("paddock_kv_cache_usage_ratio"))
                .anyMatch(e -> e.contains("paddock_preemptions_total"))
                .anyMatch(e -> e.contains("paddock_prefix_cache_hit_tokens_total"))
                .anyMatch(e -> e.contains("paddock_gpu_memory_"))
                .anyMatch(e -> e.contains("http_server_requests_seconds_count") && e.contains("status"))
                .anyMatch(e -> e.contains("paddock_rate_limited_requests_total") && e.contains("key"));
        // Rates use Grafana's rate interval, never a fixed window that breaks at other scrape intervals.
        assertThat(MonitoringAssets.panelQueries(dashboard)).extracting(MonitoringAssets.PanelQuery::expr)
                .filteredOn(e -> e.contains("rate(")).allMatch(e -> e.contains("[$__rate_interval]"));
    }

    @Test
    void everyPaddockMetricUsedIsDocumented() throws Exception {
        String documented = Files.readString(Path.of("docs/metrics.md"));
        Set<String> used = new TreeSet<>();
        MonitoringAssets.panelQueries(MonitoringAssets.dashboard()).forEach(q -> used.addAll(metrics(q.expr())));
        MonitoringAssets.variables(MonitoringAssets.dashboard()).forEach(v -> used.addAll(metrics(v.query())));
        MonitoringAssets.rules().forEach(r -> used.addAll(metrics(r.expr())));
        assertThat(used).hasSizeGreaterThan(10);
        for (String name : used) {
            String base = HISTOGRAM_SERIES.matcher(name).replaceAll("");
            assertThat(documented).as("docs/metrics.md documents %s", name).containsAnyOf("`" + name + "`", "`" + base + "`");
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void rulesAreNamedAndAlertsSayWhy() throws Exception {
        var recording = MonitoringAssets.rules(MonitoringAssets.RECORDING_RULES);
        var alerts = MonitoringAssets.rules(MonitoringAssets.ALERT_RULES);
        assertThat(recording).isNotEmpty().noneMatch(MonitoringAssets.Rule::alert)
                .allMatch(r -> r.name().matches("[a-z_]+:[a-z0-9_]+:[a-z0-9_]+"), "level:metric:operations");
        assertThat(alerts).isNotEmpty().allMatch(MonitoringAssets.Rule::alert);
        assertThat(alerts).extracting(MonitoringAssets.Rule::expr)
                .anyMatch(e -> e.startsWith("up{") && e.endsWith("== 0"));
        String guide = Files.readString(Path.of("docs/monitoring.md"));
        for (Map<String, Object> rule : MonitoringAssets.rawRules(MonitoringAssets.ALERT_RULES)) {
            String name = (String) rule.get("alert");
            assertThat(rule).as(name).containsKeys("for", "labels", "annotations");
            assertThat((Map<String, Object>) rule.get("labels")).as(name).containsKey("severity");
            assertThat((Map<String, Object>) rule.get("annotations")).as(name).containsKeys("summary", "description");
            assertThat(guide).as("docs/monitoring.md explains %s", name).contains(name);
        }
        // Alerts built on recorded series find them in the recording rules.
        Set<String> recorded = new TreeSet<>();
        recording.forEach(r -> recorded.add(r.name()));
        Pattern recordedName = Pattern.compile("[a-z_]+:[a-z0-9_]+:[a-z0-9_]+");
        for (var alert : alerts) {
            Matcher m = recordedName.matcher(alert.expr());
            while (m.find()) assertThat(recorded).as(alert.name()).contains(m.group());
        }
    }

    @Test
    void grafanaVariablesAreReplacedAsGrafanaDoes() throws Exception {
        var vars = GrafanaVariables.of("prom", List.of("127.0.0.1:8000"), List.of("a-model", "b.model"));
        assertThat(vars.apply("rate(x{instance=~\"$instance\", model=~\"${model}\"}[$__rate_interval]) $__interval"))
                .isEqualTo("rate(x{instance=~\"127\\\\.0\\\\.0\\\\.1:8000\", model=~\"(a-model|b\\\\.model)\"}[1m]) 15s");
        assertThatThrownBy(() -> vars.apply("x[$__range_typo]")).hasMessageContaining("$__range_typo");
        // Every dashboard query resolves.
        MonitoringAssets.panelQueries(MonitoringAssets.dashboard()).forEach(q -> assertThat(vars.apply(q.expr())).doesNotContain("$"));
    }

    private static Set<String> metrics(String expr) {
        Set<String> out = new TreeSet<>();
        Matcher m = PADDOCK_METRIC.matcher(expr);
        while (m.find()) out.add(m.group());
        return out;
    }
}
