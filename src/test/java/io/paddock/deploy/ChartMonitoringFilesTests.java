package io.paddock.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The chart reads the Grafana dashboard and the recording and alert rules from its own files/ (Helm packaging does not follow
 * symlinks); the originals live under monitoring/. The copies must be valid and, once monitoring/ has the
 * originals, identical to them.
 */
class ChartMonitoringFilesTests {

    @ParameterizedTest(name = "{1} is a copy of {0}")
    @CsvSource({"monitoring/grafana/paddock-dashboard.json, helm/paddock/files/paddock-dashboard.json",
            "monitoring/prometheus/paddock-alerts.yml, helm/paddock/files/paddock-alerts.yml",
            "monitoring/prometheus/paddock-recording.yml, helm/paddock/files/paddock-recording.yml"})
    void chartCopyIsIdenticalToMonitoring(Path original, Path copy) throws Exception {
        assumeTrue(Files.exists(original), "skipped: " + original + " does not exist yet, nothing to compare");
        assertThat(Files.readString(copy)).as("copy " + original + " to " + copy + " (cp " + original + " " + copy + ")")
                .isEqualTo(Files.readString(original));
    }

    @Test
    void chartDashboardIsGrafanaJson() throws Exception {
        JsonNode d = JsonMapper.builder().build().readTree(Files.readString(Path.of("helm/paddock/files/paddock-dashboard.json")));
        assertThat(d.path("title").isString()).as("title").isTrue();
        assertThat(d.path("panels").isArray()).as("panels").isTrue();
        assertThat(d.path("panels").size()).isPositive();
    }

    @ParameterizedTest
    @ValueSource(strings = {"paddock-recording.yml", "paddock-alerts.yml"})
    @SuppressWarnings("unchecked")
    void chartRuleFilesArePrometheusRuleFiles(String file) throws Exception {
        Map<String, Object> rules = Chart.loadYaml(Path.of("helm/paddock/files").resolve(file));
        assertThat(rules).containsKey("groups");
        K8sObjects.checkRuleGroups("files/" + file, (List<Map<String, Object>>) rules.get("groups"));
    }
}
