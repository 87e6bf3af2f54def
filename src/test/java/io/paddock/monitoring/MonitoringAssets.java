package io.paddock.monitoring;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.Yaml;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The monitoring assets under {@code monitoring/} read as data: the Grafana dashboard's panel queries and template
 * variables, and the Prometheus recording and alerting rules. Shared by the file checks and the live Prometheus IT.
 */
final class MonitoringAssets {
    static final Path ROOT = Path.of("monitoring");
    static final Path DASHBOARD = ROOT.resolve("grafana/paddock-dashboard.json");
    static final Path RECORDING_RULES = ROOT.resolve("prometheus/paddock-recording.yml");
    static final Path ALERT_RULES = ROOT.resolve("prometheus/paddock-alerts.yml");
    static final Path PROMETHEUS_CONFIG = ROOT.resolve("prometheus/prometheus.yml");

    /** One query of a dashboard panel. */
    record PanelQuery(String panel, String refId, String expr) {}

    /** One template variable: its name, type and query ({@code label_values(...)} or the datasource type). */
    record Variable(String name, String type, String query) {}

    /** One rule: {@code record} or {@code alert} name, its group and file, and its PromQL. */
    record Rule(Path file, String group, String name, boolean alert, String expr) {}

    private MonitoringAssets() {}

    static JsonNode dashboard() throws IOException {
        return JsonMapper.builder().build().readTree(Files.readString(DASHBOARD));
    }

    /** Every panel, rows' nested panels included, in the order of the file. */
    static List<JsonNode> panels(JsonNode dashboard) {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode p : dashboard.path("panels")) {
            out.add(p);
            for (JsonNode nested : p.path("panels")) out.add(nested);
        }
        return out;
    }

    static List<PanelQuery> panelQueries(JsonNode dashboard) {
        List<PanelQuery> out = new ArrayList<>();
        for (JsonNode p : panels(dashboard)) {
            for (JsonNode t : p.path("targets")) {
                out.add(new PanelQuery(p.path("title").asString(), t.path("refId").asString(), t.path("expr").asString()));
            }
        }
        return out;
    }

    static List<Variable> variables(JsonNode dashboard) {
        List<Variable> out = new ArrayList<>();
        for (JsonNode v : dashboard.path("templating").path("list")) {
            JsonNode q = v.path("query");
            out.add(new Variable(v.path("name").asString(), v.path("type").asString(),
                    q.isObject() ? q.path("query").asString() : q.asString()));
        }
        return out;
    }

    static List<Rule> rules() throws IOException {
        List<Rule> out = new ArrayList<>(rules(RECORDING_RULES));
        out.addAll(rules(ALERT_RULES));
        return out;
    }

    @SuppressWarnings("unchecked")
    static List<Rule> rules(Path file) throws IOException {
        List<Rule> out = new ArrayList<>();
        try (InputStream in = Files.newInputStream(file)) {
            Map<String, Object> doc = new Yaml().load(in);
            for (Map<String, Object> group : (List<Map<String, Object>>) doc.get("groups")) {
                for (Map<String, Object> rule : (List<Map<String, Object>>) group.get("rules")) {
                    boolean alert = rule.containsKey("alert");
                    out.add(new Rule(file, (String) group.get("name"),
                            (String) (alert ? rule.get("alert") : rule.get("record")), alert,
                            String.valueOf(rule.get("expr")).strip()));
                }
            }
        }
        return out;
    }

    /** The rule itself as YAML map, for checks on its labels and annotations. */
    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> rawRules(Path file) throws IOException {
        List<Map<String, Object>> out = new ArrayList<>();
        try (InputStream in = Files.newInputStream(file)) {
            Map<String, Object> doc = new Yaml().load(in);
            for (Map<String, Object> group : (List<Map<String, Object>>) doc.get("groups")) {
                out.addAll((List<Map<String, Object>>) group.get("rules"));
            }
        }
        return out;
    }
}
