package io.paddock.deploy;

import static io.paddock.deploy.K8sObjects.at;
import static io.paddock.deploy.K8sObjects.list;
import static io.paddock.deploy.K8sObjects.map;
import static io.paddock.deploy.K8sObjects.ofKind;
import static io.paddock.deploy.K8sObjects.one;
import static io.paddock.deploy.K8sObjects.str;
import static io.paddock.deploy.Workloads.container;
import static io.paddock.deploy.Workloads.requestsGpu;
import static io.paddock.deploy.Workloads.volume;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.marcnuri.helm.LintResult;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The Helm chart (helm/paddock): helm lint --strict and helm template for the default values and each
 * ci/*-values.yaml, every rendered object validated against the Kubernetes schemas (kubernetes-models) or, for the
 * Prometheus operator's resources, by hand; then what each values file is for (GPU, CPU, monitoring, keys) and
 * what values.schema.json and the templates refuse.
 */
class HelmChartTests {

    static Stream<Arguments> valuesFiles() {
        List<Arguments> out = new ArrayList<>();
        out.add(Arguments.of("default values", null));
        for (Path p : Chart.ciValuesFiles()) out.add(Arguments.of(p.getFileName().toString(), p));
        return out.stream();
    }

    @Test
    void ciHasTheGpuCpuMonitoringAndKeysValuesFiles() {
        assertThat(Chart.ciValuesFiles()).extracting(p -> p.getFileName().toString())
                .contains("gpu-values.yaml", "cpu-values.yaml", "monitoring-values.yaml", "keys-values.yaml");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("valuesFiles")
    void lintStrictPasses(String name, Path valuesFile, @TempDir Path work) throws Exception {
        LintResult r = Chart.lintStrict(valuesFile, work);
        assertThat(r.isFailed()).as(name + ": " + r.getMessages()).isFalse();
        assertThat(r.getMessages()).as(name + ": lint reports nothing above INFO")
                .allSatisfy(m -> assertThat(m).startsWith("[INFO]"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("valuesFiles")
    void rendersObjectsValidAgainstTheKubernetesSchemas(String name, Path valuesFile) {
        List<Map<String, Object>> objects = Chart.render(valuesFile);
        Workloads.checkServerContract(name, objects, Chart.applicationYaml(objects));
        assertThat(objects.stream().map(o -> o.get("kind") + "/" + str(o, "metadata", "name")).toList())
                .as(name + ": no two objects share kind and name").doesNotHaveDuplicates();
        K8sObjects.validate(name, objects); // last: skips where node is missing
    }

    @Test
    void defaultsAskForOneGpuOnGpuNodesWithTheCudaRuntime() {
        List<Map<String, Object>> objects = Chart.render(null);
        Map<String, Object> d = one(objects, "Deployment");
        assertThat(at(container(d), "resources", "limits", "nvidia.com/gpu")).isEqualTo(1);
        assertThat(map(d, "spec", "template", "spec", "nodeSelector")).containsEntry("nvidia.com/gpu.present", "true");
        assertThat(list(d, "spec", "template", "spec", "tolerations"))
                .anySatisfy(t -> assertThat(t).containsEntry("key", "nvidia.com/gpu"));
        assertThat(at(Chart.applicationYaml(objects), "paddock", "runtime")).isEqualTo("cuda");
        assertThat(at(d, "spec", "replicas")).isEqualTo(1);
        assertThat(at(d, "spec", "strategy", "rollingUpdate", "maxSurge")).as("no surge: the GPU is taken").isEqualTo(0);
        assertThat(at(volume(d, "models"), "persistentVolumeClaim", "claimName")).isEqualTo("paddock-models");
        assertThat(ofKind(objects, "PersistentVolumeClaim")).hasSize(1);
        assertThat(ofKind(objects, "PodDisruptionBudget")).hasSize(1);
        assertThat(ofKind(objects, "HorizontalPodAutoscaler")).isEmpty();
        assertThat(ofKind(objects, "Secret")).isEmpty();
        assertThat(objects).noneMatch(o -> String.valueOf(o.get("apiVersion")).startsWith("monitoring.coreos.com"));
    }

    @Test
    void gpuValuesServeA65bFromAnExistingClaim() {
        List<Map<String, Object>> objects = Chart.render(Chart.DIR.resolve("ci/gpu-values.yaml"));
        Map<String, Object> d = one(objects, "Deployment");
        Map<String, Object> app = Chart.applicationYaml(objects);
        assertThat(requestsGpu(d)).isTrue();
        assertThat(at(app, "paddock", "model", "path")).isEqualTo("/models/guanaco-65B-GPTQ");
        assertThat(map(app, "paddock", "engine")).containsEntry("max-num-seqs", 16).containsEntry("max-queued", 64)
                .containsEntry("max-queued-prompt-tokens", 65536).containsEntry("kv-cache-memory", "30GB");
        assertThat(at(volume(d, "models"), "persistentVolumeClaim", "claimName")).isEqualTo("llm-models");
        assertThat(ofKind(objects, "PersistentVolumeClaim")).as("an existing claim: none created").isEmpty();
        assertThat(str(container(d), "image")).isEqualTo("registry.example.com/paddock:0.1.0");
    }

    @Test
    void cpuValuesAskForNoGpuAndPullTheModelInAnInitContainer() {
        List<Map<String, Object>> objects = Chart.render(Chart.DIR.resolve("ci/cpu-values.yaml"));
        Map<String, Object> d = one(objects, "Deployment");
        Map<String, Object> pod = map(d, "spec", "template", "spec");
        assertThat(requestsGpu(d)).isFalse();
        assertThat(pod).doesNotContainKeys("nodeSelector", "tolerations");
        assertThat(at(Chart.applicationYaml(objects), "paddock", "runtime")).isEqualTo("cpu");
        assertThat(at(Chart.applicationYaml(objects), "paddock", "model", "threads")).isEqualTo(16);
        List<Map<String, Object>> init = list(pod, "initContainers");
        assertThat(init).hasSize(1);
        assertThat(String.join(" ", (List<String>) init.getFirst().get("command"))).contains("cp -r /bundle");
        assertThat(list(init.getFirst(), "volumeMounts")).anySatisfy(m -> assertThat(m)
                .containsEntry("name", "models").doesNotContainKey("readOnly"));
        assertThat(map(volume(d, "models"), "emptyDir")).containsEntry("sizeLimit", "10Gi");
        assertThat(ofKind(objects, "PersistentVolumeClaim")).isEmpty();
    }

    @Test
    void monitoringValuesAddServiceMonitorAlertRulesDashboardAndQueueDepthAutoscaling() throws Exception {
        List<Map<String, Object>> objects = Chart.render(Chart.DIR.resolve("ci/monitoring-values.yaml"));
        Map<String, Object> app = Chart.applicationYaml(objects);
        assertThat(at(app, "management", "server", "port")).as("metrics on their own port").isEqualTo(9464);
        assertThat(at(app, "management", "endpoints", "web", "base-path")).as("docs/metrics.md").isEqualTo("/");
        assertThat(at(app, "management", "endpoints", "web", "path-mapping", "prometheus")).isEqualTo("metrics");
        assertThat(list(one(objects, "Service"), "spec", "ports"))
                .anySatisfy(p -> assertThat(p).containsEntry("name", "metrics").containsEntry("port", 9464));

        Map<String, Object> sm = one(objects, "ServiceMonitor");
        assertThat(list(sm, "spec", "endpoints")).singleElement().satisfies(e -> assertThat(e)
                .containsEntry("port", "metrics").containsEntry("path", "/metrics"));
        assertThat(map(sm, "metadata", "labels")).containsEntry("release", "kube-prometheus-stack");

        Map<String, Object> rule = one(objects, "PrometheusRule");
        List<Object> groups = new ArrayList<>();
        for (String f : List.of("files/paddock-recording.yml", "files/paddock-alerts.yml")) {
            groups.addAll((List<?>) Chart.loadYaml(Chart.DIR.resolve(f)).get("groups"));
        }
        assertThat(at(rule, "spec", "groups")).as("the chart's recording and alert rule files, unchanged")
                .isEqualTo(groups);
        assertThat(sm).as("job=\"paddock\" (what the alerts select) for any release name")
                .satisfies(s -> assertThat(at(s, "spec", "jobLabel")).isEqualTo("app.kubernetes.io/name"));
        assertThat(map(one(objects, "Service"), "metadata", "labels")).containsEntry("app.kubernetes.io/name", "paddock");

        Map<String, Object> dashboard = ofKind(objects, "ConfigMap").stream()
                .filter(o -> map(o, "data").containsKey("paddock-dashboard.json")).findFirst().orElseThrow();
        assertThat(map(dashboard, "metadata", "labels")).containsEntry("grafana_dashboard", "1");
        JsonNode json = JsonMapper.builder().build().readTree(str(dashboard, "data", "paddock-dashboard.json"));
        assertThat(json.path("panels").isArray()).as("the dashboard is Grafana JSON with panels").isTrue();

        Map<String, Object> hpa = one(objects, "HorizontalPodAutoscaler");
        assertThat(hpa.get("apiVersion")).isEqualTo("autoscaling/v2");
        assertThat(list(hpa, "spec", "metrics")).singleElement().satisfies(m -> {
            assertThat(m).containsEntry("type", "Pods");
            assertThat(at(m, "pods", "metric", "name")).isEqualTo("paddock_requests_waiting");
            assertThat(at(m, "pods", "target", "type")).isEqualTo("AverageValue");
            assertThat(at(m, "pods", "target", "averageValue")).isEqualTo("8");
        });
        assertThat(map(hpa, "spec", "scaleTargetRef")).containsEntry("kind", "Deployment").containsEntry("name",
                str(one(objects, "Deployment"), "metadata", "name"));
        assertThat(map(one(objects, "Deployment"), "spec")).as("the HPA owns replicas").doesNotContainKey("replicas");
    }

    @Test
    void keysValuesMountAChartMadeSecretNamedByTheKeysFile() throws Exception {
        List<Map<String, Object>> objects = Chart.render(Chart.DIR.resolve("ci/keys-values.yaml"));
        Map<String, Object> secret = one(objects, "Secret");
        JsonNode keys = JsonMapper.builder().build().readTree(str(secret, "stringData", "keys.yaml"));
        assertThat(keys.path("keys").size()).isEqualTo(2);
        assertThat(keys.path("keys").get(0).path("name").asString()).isEqualTo("team-a");
        assertThat(keys.path("keys").get(0).path("keySha256").asString()).hasSize(64);
        assertThat(keys.path("keys").get(0).path("maxConcurrentRequests").asInt()).isEqualTo(8);
        assertKeysMounted(objects, str(secret, "metadata", "name"), "keys.yaml");
    }

    @Test
    void anExistingKeysSecretIsMountedAndNoneIsCreated() {
        List<Map<String, Object>> objects = Chart.render(null, "auth.enabled", true, "auth.existingSecret",
                "paddock-api-keys", "auth.existingSecretKey", "keys.json");
        K8sObjects.validate("existing keys secret", objects);
        assertThat(ofKind(objects, "Secret")).isEmpty();
        assertKeysMounted(objects, "paddock-api-keys", "keys.json");
    }

    private static void assertKeysMounted(List<Map<String, Object>> objects, String secretName, String fileName) {
        Map<String, Object> d = one(objects, "Deployment");
        assertThat(at(volume(d, "keys"), "secret", "secretName")).isEqualTo(secretName);
        assertThat(Workloads.mountPath(container(d), "keys")).isEqualTo("/etc/paddock/keys");
        assertThat(at(Chart.applicationYaml(objects), "paddock", "auth", "keys-file"))
                .isEqualTo("/etc/paddock/keys/" + fileName);
    }

    @Test
    void notesShowHowToCallItWithCurlAndTheOpenAiSdks() {
        String notes = Chart.installDryRunOutput(null);
        assertThat(notes).contains("kubectl -n llm port-forward svc/paddock 8000:8000")
                .contains("http://paddock.llm.svc:8000/v1")
                .contains("curl http://localhost:8000/v1/chat/completions")
                .contains("OpenAI(base_url=\"http://localhost:8000/v1\", api_key=\"unused\")")
                .contains("new OpenAI({ baseURL: \"http://localhost:8000/v1\"")
                .contains("\"model\": \"model\"").doesNotContain("Authorization");
        String withKeys = Chart.installDryRunOutput(Chart.DIR.resolve("ci/keys-values.yaml"));
        assertThat(withKeys).contains("-H \"Authorization: Bearer $PADDOCK_API_KEY\"")
                .contains("import os\n  from openai import OpenAI")
                .contains("api_key=os.environ[\"PADDOCK_API_KEY\"]").contains("apiKey: process.env.PADDOCK_API_KEY");
    }

    @Test
    void packagedChartCarriesTheMonitoringFilesAndNotCi(@TempDir Path out) throws Exception {
        new com.marcnuri.helm.Helm(Chart.DIR).packageIt().withDestination(out).call();
        Path tgz = out.resolve("paddock-0.1.0.tgz");
        assertThat(tgz).exists();
        List<String> entries = new ArrayList<>();
        try (var in = new java.util.zip.GZIPInputStream(java.nio.file.Files.newInputStream(tgz))) {
            byte[] all = in.readAllBytes();
            // ustar: a 512-byte header per entry, the name in its first 100 bytes, the size (octal) at 124
            for (int off = 0; off + 512 <= all.length && all[off] != 0; ) {
                String entry = new String(all, off, 100, java.nio.charset.StandardCharsets.US_ASCII).replace("\0", "");
                long size = Long.parseLong(new String(all, off + 124, 11, java.nio.charset.StandardCharsets.US_ASCII)
                        .replace("\0", "").trim(), 8);
                entries.add(entry);
                off += 512 + (int) ((size + 511) / 512 * 512);
            }
        }
        assertThat(entries).contains("paddock/files/paddock-dashboard.json", "paddock/files/paddock-alerts.yml",
                "paddock/values.schema.json", "paddock/templates/NOTES.txt")
                .noneMatch(e -> e.startsWith("paddock/ci/"));
    }

    @Test
    void extraConfigIsMergedIntoApplicationYaml() {
        Map<String, Object> app = Chart.applicationYaml(Chart.render(null, "paddock.extraConfig.paddock.chat-template.model",
                "guanaco", "paddock.extraConfig.logging.level.io\\.paddock", "DEBUG"));
        assertThat(at(app, "paddock", "chat-template", "model")).isEqualTo("guanaco");
        assertThat(at(app, "paddock", "runtime")).as("the chart's own settings stay").isEqualTo("cuda");
        assertThat(at(app, "logging", "level", "io.paddock")).isEqualTo("DEBUG");
    }

    @Test
    void schemaRefusesUnknownTopLevelKeysAndTypos() {
        assertThatThrownBy(() -> Chart.template(null, "replicas", 2)).hasMessageContaining("replicas");
        assertThatThrownBy(() -> Chart.template(null, "gpu.enable", true)).hasMessageContaining("enable");
        assertThatThrownBy(() -> Chart.template(null, "paddock.runtime", "rocm")).hasMessageContaining("runtime");
        assertThatThrownBy(() -> Chart.template(null, "models.names[0]", "a/b")).hasMessageContaining("names");
    }

    @Test
    void templatesRefuseAGracePeriodNoLongerThanTheDrainAndAuthWithoutKeys() {
        assertThatThrownBy(() -> Chart.template(null, "terminationGracePeriodSeconds", 30))
                .hasMessageContaining("must exceed paddock.drainTimeoutSeconds");
        assertThatThrownBy(() -> Chart.template(null, "auth.enabled", true))
                .hasMessageContaining("auth.enabled needs auth.keys or auth.existingSecret");
        assertThatThrownBy(() -> Chart.template(null, "models.persistence.enabled", false))
                .hasMessageContaining("models need a source");
    }
}
