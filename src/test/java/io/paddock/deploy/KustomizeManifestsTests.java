package io.paddock.deploy;

import static io.paddock.deploy.K8sObjects.at;
import static io.paddock.deploy.K8sObjects.list;
import static io.paddock.deploy.K8sObjects.map;
import static io.paddock.deploy.K8sObjects.one;
import static io.paddock.deploy.K8sObjects.str;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The plain manifests under k8s/: kubectl kustomize renders the base and the gpu and cpu overlays, every object is
 * validated against the Kubernetes schemas, and each overlay is the Helm chart's default rendering (gpu) or the
 * chart with gpu.enabled=false (cpu), up to labels, annotations and kustomize's ConfigMap name suffix.
 */
class KustomizeManifestsTests {
    private static final Path K8S = Path.of("k8s");
    /** kustomize's configMapGenerator appends a content hash of 10 characters. */
    private static final Pattern HASH_SUFFIX = Pattern.compile("-[a-z0-9]{10}$");

    @BeforeAll
    static void kubectl() {
        assumeTrue(K8sObjects.commandWorks("kubectl", "version", "--client"),
                "skipped: kubectl is not installed (kubectl kustomize renders k8s/)");
    }

    static List<Map<String, Object>> kustomize(String dir) {
        K8sObjects.Result r = K8sObjects.run(List.of("kubectl", "kustomize", K8S.resolve(dir).toString()), null, 120,
                Path.of("."));
        assertThat(r.exit()).as("kubectl kustomize " + dir + "\n" + r.out()).isZero();
        return K8sObjects.parse(r.out());
    }

    @ParameterizedTest
    @ValueSource(strings = {"base", "overlays/gpu", "overlays/cpu"})
    void rendersObjectsValidAgainstTheKubernetesSchemas(String dir) {
        List<Map<String, Object>> objects = kustomize(dir);
        Workloads.checkServerContract("k8s/" + dir, objects, Chart.applicationYaml(objects));
        K8sObjects.validate("k8s/" + dir, objects); // last: skips where node is missing
    }

    @ParameterizedTest(name = "k8s/overlays/{0} = the chart with {1}")
    @CsvSource({"gpu, gpu.enabled=true", "cpu, gpu.enabled=false"})
    void overlayMatchesTheChart(String overlay, String set) {
        String[] kv = set.split("=");
        List<Map<String, Object>> chart = Chart.render(null, kv[0], Boolean.parseBoolean(kv[1]));
        List<Map<String, Object>> manifests = kustomize("overlays/" + overlay);
        assertThat(normalize(manifests)).as("k8s/overlays/" + overlay + " against helm template with " + set)
                .isEqualTo(normalize(chart));
        Map<String, Object> d = one(manifests, "Deployment");
        assertThat(Workloads.requestsGpu(d)).isEqualTo(overlay.equals("gpu"));
        assertThat(at(Chart.applicationYaml(manifests), "paddock", "runtime")).isEqualTo(overlay.equals("gpu") ? "cuda" : "cpu");
    }

    /**
     * kind/name to the object without what legitimately differs: metadata labels and annotations (Helm's chart and
     * checksum labels, kustomize's ordering), pod template metadata, ConfigMap name hashes; application.yaml
     * compared parsed, so comments and key order do not matter.
     */
    @SuppressWarnings("unchecked")
    static Map<String, Object> normalize(List<Map<String, Object>> objects) {
        Map<String, Object> out = new TreeMap<>();
        for (Map<String, Object> o : objects) {
            Map<String, Object> copy = (Map<String, Object>) deepCopy(o);
            String kind = (String) copy.get("kind");
            String name = str(copy, "metadata", "name");
            if (kind.equals("ConfigMap")) name = HASH_SUFFIX.matcher(name).replaceAll("");
            copy.put("metadata", Map.of("name", name));
            if (kind.equals("ConfigMap") && map(copy, "data").containsKey("application.yaml")) {
                map(copy, "data").put("application.yaml", new Yaml(new SafeConstructor(new LoaderOptions()))
                        .load(str(copy, "data", "application.yaml")));
            }
            if (kind.equals("Deployment")) {
                map(copy, "spec", "template").remove("metadata");
                for (Map<String, Object> v : list(copy, "spec", "template", "spec", "volumes")) {
                    Map<String, Object> cm = map(v, "configMap");
                    if (cm != null) cm.put("name", HASH_SUFFIX.matcher((String) cm.get("name")).replaceAll(""));
                }
            }
            out.put(kind + "/" + name, copy);
        }
        return out;
    }

    private static Object deepCopy(Object o) {
        if (o instanceof Map<?, ?> m) {
            Map<String, Object> c = new TreeMap<>();
            m.forEach((k, v) -> c.put((String) k, deepCopy(v)));
            return c;
        }
        if (o instanceof List<?> l) return new java.util.ArrayList<>(l.stream().map(KustomizeManifestsTests::deepCopy).toList());
        return o;
    }
}
