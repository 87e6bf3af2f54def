package io.paddock.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The checks the chart and manifest tests rely on do catch what they are for. */
class K8sValidatorTests {

    @Test
    void schemaViolationsFail() {
        List<Map<String, Object>> bad = K8sObjects.parse("""
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: x}
                spec:
                  replicas: two
                  selector: {matchLabels: {a: b}}
                  template:
                    metadata: {labels: {a: b}}
                    spec:
                      containers:
                        - name: c
                          image: i
                          ports: [{containerPort: http}]
                """);
        assertThatThrownBy(() -> K8sObjects.validate("bad deployment", bad))
                .hasMessageContaining("/spec/replicas: must be integer")
                .hasMessageContaining("containerPort: must be integer");
    }

    @Test
    void fieldsTheApiDoesNotDefineFail() {
        List<Map<String, Object>> typos = K8sObjects.parse("""
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: x}
                spec:
                  selector: {matchLabels: {a: b}}
                  template:
                    metadata: {labels: {a: b}}
                    spec:
                      containers:
                        - name: c
                          image: i
                          readinessProbe: {httpGet: {path: /ready, port: http}}
                          env: [{name: A, valu: b}]
                        - name: d
                          image: i
                          resources: {limits: {cpu: "1"}}
                          securityContext: {readOnlyRootFilesystem: true}
                      readinessProbe: {httpGet: {path: /ready, port: http}}
                      volumes: [{name: v, emptyDir: {medium: Memory, size: 1Gi}}]
                """);
        assertThatThrownBy(() -> K8sObjects.validate("misplaced fields", typos))
                .hasMessageContaining("/spec/template/spec/containers/0/env/0/valu: not a field")
                .hasMessageContaining("/spec/template/spec/readinessProbe: not a field")
                .hasMessageContaining("/spec/template/spec/volumes/0/emptyDir/size: not a field")
                .hasMessageNotContaining("containers/1");
    }

    @Test
    void validObjectsPass() {
        K8sObjects.validate("service", K8sObjects.parse("""
                apiVersion: v1
                kind: Service
                metadata: {name: s}
                spec: {ports: [{name: http, port: 8000}]}
                """));
    }

    @Test
    void unknownKindsFailAndCustomResourcesAreCheckedByHand() {
        assertThatThrownBy(() -> K8sObjects.validate("widget", K8sObjects.parse("""
                apiVersion: example.com/v1
                kind: Widget
                metadata: {name: w}
                """))).hasMessageContaining("neither kubernetes-models nor these checks know");
        assertThatThrownBy(() -> K8sObjects.validate("service monitor", K8sObjects.parse("""
                apiVersion: monitoring.coreos.com/v1
                kind: ServiceMonitor
                metadata: {name: m}
                spec: {selector: {matchLabels: {a: b}}, endpoints: []}
                """))).hasMessageContaining("spec.endpoints");
        assertThatThrownBy(() -> K8sObjects.validate("rule", K8sObjects.parse("""
                apiVersion: monitoring.coreos.com/v1
                kind: PrometheusRule
                metadata: {name: r}
                spec: {groups: [{name: g, rules: [{alert: A, expr: up == 0, record: r}]}]}
                """))).hasMessageContaining("either an alert or a record");
        assertThatThrownBy(() -> K8sObjects.validate("rule", K8sObjects.parse("""
                apiVersion: monitoring.coreos.com/v1
                kind: PrometheusRule
                metadata: {name: r}
                spec: {groups: [{name: g, rules: [{alert: A, expr: up == 0, for: 5 minutes}]}]}
                """))).hasMessageContaining("rule for");
    }

    @Test
    void lintOfAValuesFileChecksTheMergedValuesAgainstTheSchema(@TempDir Path work) throws Exception {
        Path typo = Files.writeString(work.resolve("typo-values.yaml"), "gpu:\n  enabeld: false\n");
        Files.createDirectories(work.resolve("chart"));
        var r = Chart.lintStrict(typo, work.resolve("chart"));
        assertThat(r.isFailed()).as(String.valueOf(r.getMessages())).isTrue();
        assertThat(String.join("\n", r.getMessages())).contains("enabeld");
    }

    @Test
    void valuesMergeLikeHelm() {
        Map<String, Object> base = Map.of("a", Map.of("x", 1, "y", 2), "b", List.of(1), "c", "keep");
        Map<String, Object> over = new java.util.HashMap<>(Map.of("a", Map.of("y", 3), "b", List.of(2)));
        over.put("c", null);
        assertThat(K8sObjects.mergeValues(base, over))
                .isEqualTo(Map.of("a", Map.of("x", 1, "y", 3), "b", List.of(2)));
    }
}
