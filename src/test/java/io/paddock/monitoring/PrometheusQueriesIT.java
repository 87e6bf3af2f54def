package io.paddock.monitoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.JsonNode;

/**
 * The dashboard and the rules against a real Prometheus: it scrapes this server (the demo model) every second and
 * evaluates both rule files every second; after a short load (plain and streamed completions, a 400, a 404) every
 * PromQL expression of the dashboard and the rules must parse and return data, or be empty for a reason listed in
 * {@link #EXPECTED_EMPTY}. An alert may be empty only while the expression under its threshold returns data.
 * Skips where Prometheus is not installed ({@code apt-get install prometheus}; {@code .ci/run} does it).
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class PrometheusQueriesIT {
    private static final String MODEL = "paddock-demo-random";
    private static final Duration WAIT = Duration.ofSeconds(30);

    /** Expressions that return nothing on this server, found by a metric they use, and why. */
    private static final Map<String, String> EXPECTED_EMPTY = Map.of(
            "paddock_gpu_memory_", "GPU memory gauges exist only on the CUDA runtime; this server runs on the CPU",
            "paddock_rate_limited_requests_total",
            "no API-key rate limiting runs here (no keys, no limits), so the counter has no series");
    private static final String NOT_FIRING = "an alert below its threshold under this load (the operand under the threshold returns data)";

    /** An alert's expression split at its top-level threshold: {@code operand op number}. */
    private static final Pattern THRESHOLD =
            Pattern.compile("(?s)^(.*\\S)\\s*(==|!=|>=|<=|>|<)\\s*(-?[0-9.]+(?:e[+-]?[0-9]+)?)$");

    private final HttpClient http = HttpClient.newHttpClient();

    @LocalServerPort
    int port;

    @BeforeAll
    static void needsPrometheus() {
        assumeTrue(LocalPrometheus.onPath("prometheus") && LocalPrometheus.onPath("promtool"),
                "prometheus and promtool are not installed (Debian: apt-get install prometheus); "
                        + "the dashboard and rule queries are checked against a real Prometheus only where one exists");
    }

    @Test
    void promtoolAcceptsTheRulesAndTheExampleConfig() throws Exception {
        String rules = promtool("check", "rules", MonitoringAssets.RECORDING_RULES.toString(),
                MonitoringAssets.ALERT_RULES.toString());
        assertThat(rules).contains("SUCCESS");
        promtool("check", "config", MonitoringAssets.PROMETHEUS_CONFIG.toString());
    }

    @Test
    void everyDashboardAndRuleQueryAnswers() throws Exception {
        String target = "127.0.0.1:" + port;
        try (LocalPrometheus prometheus = LocalPrometheus.start(target, "/metrics",
                List.of(MonitoringAssets.RECORDING_RULES, MonitoringAssets.ALERT_RULES))) {
            awaitValue(prometheus, "up{job=\"paddock\"}", v -> v == 1, "the first scrape");
            load();
            awaitValue(prometheus, "sum(paddock_requests_total{model=\"" + MODEL + "\",finish_reason=\"length\"})",
                    v -> v >= 5, "the load scraped");
            awaitValue(prometheus, "count(http_server_requests_seconds_count{status=\"404\"})", v -> v >= 1,
                    "the 404 scraped");
            awaitValue(prometheus, "instance_model:paddock_time_to_first_token_seconds:p99_5m", v -> !v.isNaN(),
                    "the recording rules evaluated after the load");
            TimeUnit.SECONDS.sleep(2); // one more evaluation of both groups on the final scrape
            awaitRulesHealthy(prometheus);

            double now = System.currentTimeMillis() / 1000.0;
            var vars = GrafanaVariables.of("prometheus", List.of(target), List.of(MODEL));
            List<String> failures = new ArrayList<>();
            Map<String, Integer> withData = new LinkedHashMap<>();
            Map<String, Integer> empty = new TreeMap<>();

            var dashboard = MonitoringAssets.dashboard();
            for (var q : MonitoringAssets.panelQueries(dashboard)) {
                check(prometheus, "panel \"" + q.panel() + "\" " + q.refId(), vars.apply(q.expr()), now,
                        "dashboard panels", withData, empty, failures);
            }
            for (var v : MonitoringAssets.variables(dashboard)) {
                if (!v.type().equals("query")) continue;
                Matcher m = Pattern.compile("^label_values\\((.+),\\s*(\\w+)\\)$").matcher(vars.apply(v.query()));
                assertThat(m.matches()).as(v.query()).isTrue();
                String expected = v.name().equals("instance") ? target : MODEL;
                JsonNode result = data(prometheus, m.group(1), now, "variable $" + v.name(), failures);
                if (result == null) continue;
                boolean found = false;
                for (JsonNode series : result) found |= expected.equals(series.path("metric").path(m.group(2)).asString());
                if (found) withData.merge("dashboard variables", 1, Integer::sum);
                else failures.add("variable $" + v.name() + ": no " + m.group(2) + "=" + expected + " in " + result);
            }
            for (var rule : MonitoringAssets.rules()) {
                if (!rule.alert()) {
                    check(prometheus, "recording rule " + rule.name(), rule.expr(), now, "recording rules", withData,
                            empty, failures);
                    // The recorded series itself, as the alerts read it.
                    JsonNode recorded = data(prometheus, rule.name(), now, "recorded " + rule.name(), failures);
                    if (recorded != null && recorded.isEmpty() && reason(rule.expr()) == null) {
                        failures.add("recorded series " + rule.name() + " is empty");
                    }
                    continue;
                }
                String what = "alert " + rule.name();
                JsonNode firing = data(prometheus, rule.expr(), now, what, failures);
                if (firing == null) continue;
                if (hasValue(firing)) {
                    // A slow, shared machine can push the test's own latencies past a threshold: data all the same.
                    withData.merge("alerts (threshold crossed under the test load)", 1, Integer::sum);
                    System.out.println(what + " is past its threshold under the test load: " + firing);
                    continue;
                }
                Matcher m = THRESHOLD.matcher(rule.expr());
                if (!m.matches()) {
                    failures.add(what + ": no top-level threshold to check its operand: " + rule.expr());
                    continue;
                }
                JsonNode operand = data(prometheus, m.group(1), now, what + " operand", failures);
                if (operand != null && hasValue(operand)) empty.merge(NOT_FIRING, 1, Integer::sum);
                else if (operand != null) failures.add(what + ": operand returns no data: " + m.group(1));
            }

            int total = withData.values().stream().mapToInt(Integer::intValue).sum()
                    + empty.values().stream().mapToInt(Integer::intValue).sum();
            StringBuilder report = new StringBuilder("PromQL expressions verified against a real Prometheus: "
                    + total + " (" + withData + " returned data");
            empty.forEach((why, n) -> report.append("; ").append(n).append(" expected empty: ").append(why));
            report.append(')');
            System.out.println(report);
            assertThat(failures).as(report.toString()).isEmpty();
            assertThat(total).isEqualTo(MonitoringAssets.panelQueries(dashboard).size() + 2
                    + MonitoringAssets.rules().size());
        }
    }

    /** Queries {@code promql}; it must return a value, or be empty for a reason of {@link #EXPECTED_EMPTY}. */
    private static void check(LocalPrometheus prometheus, String what, String promql, double time, String kind,
            Map<String, Integer> withData, Map<String, Integer> empty, List<String> failures) throws Exception {
        JsonNode result = data(prometheus, promql, time, what, failures);
        if (result == null) return;
        String why = reason(promql);
        if (hasValue(result)) {
            withData.merge(kind, 1, Integer::sum);
        } else if (result.isEmpty() && why != null) {
            empty.merge(why, 1, Integer::sum);
        } else {
            failures.add(what + ": " + (result.isEmpty() ? "no data" : "only NaN") + " for " + promql);
        }
    }

    private static String reason(String promql) {
        return EXPECTED_EMPTY.entrySet().stream().filter(e -> promql.contains(e.getKey())).map(Map.Entry::getValue)
                .findFirst().orElse(null);
    }

    /** The result vector of an instant query, or null (and a failure) when Prometheus refused it. */
    private static JsonNode data(LocalPrometheus prometheus, String promql, double time, String what,
            List<String> failures) throws Exception {
        JsonNode answer = prometheus.query(promql, time);
        if (!answer.path("status").asString().equals("success")) {
            failures.add(what + ": " + answer.path("errorType").asString() + " " + answer.path("error").asString()
                    + " in " + promql);
            return null;
        }
        JsonNode data = answer.path("data");
        if (!data.path("resultType").asString().equals("vector")) {
            failures.add(what + ": result type " + data.path("resultType") + " for " + promql);
            return null;
        }
        return data.path("result");
    }

    /** At least one sample that is a number (a quantile of no observations is NaN). */
    private static boolean hasValue(JsonNode vector) {
        for (JsonNode series : vector) {
            if (!Double.isNaN(Double.parseDouble(series.path("value").get(1).asString()))) return true;
        }
        return false;
    }

    private static void awaitValue(LocalPrometheus prometheus, String promql, Predicate<Double> ok, String what)
            throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        JsonNode last = null;
        while (System.nanoTime() < deadline) {
            last = prometheus.query(promql, System.currentTimeMillis() / 1000.0);
            for (JsonNode series : last.path("data").path("result")) {
                if (ok.test(Double.parseDouble(series.path("value").get(1).asString()))) return;
            }
            TimeUnit.MILLISECONDS.sleep(250);
        }
        throw new AssertionError("waited " + WAIT + " for " + what + " (" + promql + "), last answer " + last
                + "\nprometheus log:\n" + prometheus.log() + "\ntargets: " + prometheus.api("targets"));
    }

    private static void awaitRulesHealthy(LocalPrometheus prometheus) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        List<String> unhealthy = List.of();
        while (System.nanoTime() < deadline) {
            unhealthy = new ArrayList<>();
            int rules = 0;
            for (JsonNode group : prometheus.api("rules").path("data").path("groups")) {
                for (JsonNode rule : group.path("rules")) {
                    rules++;
                    if (!rule.path("health").asString().equals("ok")) {
                        unhealthy.add(rule.path("name").asString() + " " + rule.path("health").asString() + " "
                                + rule.path("lastError").asString(""));
                    }
                }
            }
            if (rules == MonitoringAssets.rules().size() && unhealthy.isEmpty()) return;
            TimeUnit.MILLISECONDS.sleep(250);
        }
        throw new AssertionError("rules not all loaded and healthy: " + unhealthy);
    }

    /** A few completions, plain and streamed, with a shared prompt prefix; one 400 and one 404. */
    private void load() throws Exception {
        String prefix = "The quick brown fox jumps over the lazy dog while the farmer counts his sheep in the field. ";
        String shared = prefix.repeat(2);
        for (int i = 0; i < 3; i++) {
            var res = post("/v1/completions", """
                    {"model":"%s","prompt":"%s","max_tokens":6,"seed":%d,"ignore_eos":true}""".formatted(MODEL, shared, i));
            assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
        }
        var streamed = post("/v1/completions", """
                {"model":"%s","prompt":"%s once more","max_tokens":5,"seed":7,"ignore_eos":true,"stream":true}"""
                .formatted(MODEL, shared));
        assertThat(streamed.statusCode()).isEqualTo(200);
        assertThat(streamed.body()).contains("data: [DONE]");
        var chat = post("/v1/chat/completions", """
                {"model":"%s","messages":[{"role":"user","content":"hello"}],"max_tokens":4,"seed":3,
                 "ignore_eos":true,"stream":true}""".formatted(MODEL));
        assertThat(chat.statusCode()).isEqualTo(200);
        assertThat(chat.body()).contains("data: [DONE]");
        var bad = post("/v1/completions", """
                {"model":"%s","prompt":"hi","max_tokens":-1}""".formatted(MODEL));
        assertThat(bad.statusCode()).as(bad.body()).isEqualTo(400);
        var missing = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/no-such-route"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(missing.statusCode()).isEqualTo(404);
    }

    private HttpResponse<String> post(String path, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static String promtool(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("promtool"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", command) + ":\n" + out).isZero();
        return out;
    }
}
