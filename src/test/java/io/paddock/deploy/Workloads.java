package io.paddock.deploy;

import static io.paddock.deploy.K8sObjects.at;
import static io.paddock.deploy.K8sObjects.list;
import static io.paddock.deploy.K8sObjects.map;
import static io.paddock.deploy.K8sObjects.one;
import static io.paddock.deploy.K8sObjects.str;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/** What every paddock deployment must get right, whether it comes from the chart or from k8s/. */
final class Workloads {
    /** A 65B model loads in minutes: the startup probe must wait at least this long. */
    static final Duration MIN_STARTUP_BUDGET = Duration.ofMinutes(10);

    private Workloads() {}

    static Map<String, Object> container(Map<String, Object> deployment) {
        List<Map<String, Object>> containers = list(deployment, "spec", "template", "spec", "containers");
        assertThat(containers).as("containers").isNotEmpty();
        return containers.stream().filter(c -> "paddock".equals(c.get("name"))).findFirst().orElseThrow();
    }

    static Map<String, Object> volume(Map<String, Object> deployment, String name) {
        return list(deployment, "spec", "template", "spec", "volumes").stream()
                .filter(v -> name.equals(v.get("name"))).findFirst()
                .orElseThrow(() -> new AssertionError("no volume " + name));
    }

    static String mountPath(Map<String, Object> container, String volume) {
        return list(container, "volumeMounts").stream().filter(m -> volume.equals(m.get("name")))
                .map(m -> (String) m.get("mountPath")).findFirst().orElse(null);
    }

    static Duration parseDuration(String s) {
        assertThat(s).matches("[0-9]+(ms|s|m|h)");
        return s.endsWith("ms") ? Duration.ofMillis(Long.parseLong(s.substring(0, s.length() - 2)))
                : switch (s.charAt(s.length() - 1)) {
                    case 's' -> Duration.ofSeconds(Long.parseLong(s.substring(0, s.length() - 1)));
                    case 'm' -> Duration.ofMinutes(Long.parseLong(s.substring(0, s.length() - 1)));
                    default -> Duration.ofHours(Long.parseLong(s.substring(0, s.length() - 1)));
                };
    }

    static int num(Object o, String... path) {
        Object v = at(o, path);
        assertThat(v).as(String.join(".", path)).isInstanceOf(Number.class);
        return ((Number) v).intValue();
    }

    /**
     * The server's contract: probes on /health and /ready with a startup budget of minutes, non-root with a
     * read-only root and a writable /tmp, /dev/shm in memory, the config mounted where Spring reads it, a grace
     * period longer than the drain, selectors that match the pods, models mounted read-only where the config says.
     */
    @SuppressWarnings("unchecked")
    static void checkServerContract(String what, List<Map<String, Object>> objects, Map<String, Object> appYaml) {
        Map<String, Object> d = one(objects, "Deployment");
        Map<String, Object> pod = map(d, "spec", "template", "spec");
        Map<String, Object> c = container(d);
        Map<String, Object> podLabels = map(d, "spec", "template", "metadata", "labels");

        // selectors
        assertThat(podLabels).as(what + ": pods carry the Deployment's selector")
                .containsAllEntriesOf((Map<String, Object>) (Map<?, ?>) map(d, "spec", "selector", "matchLabels"));
        assertThat(podLabels).as(what + ": pods carry the Service's selector")
                .containsAllEntriesOf(map(one(objects, "Service"), "spec", "selector"));
        for (Map<String, Object> pdb : K8sObjects.ofKind(objects, "PodDisruptionBudget")) {
            assertThat(podLabels).as(what + ": pods carry the PDB's selector")
                    .containsAllEntriesOf(map(pdb, "spec", "selector", "matchLabels"));
        }

        // probes
        assertThat(str(c, "startupProbe", "httpGet", "path")).as(what + " startup probe").isEqualTo("/health");
        assertThat(str(c, "livenessProbe", "httpGet", "path")).as(what + " liveness probe").isEqualTo("/health");
        assertThat(str(c, "readinessProbe", "httpGet", "path")).as(what + " readiness probe").isEqualTo("/ready");
        Duration startup = Duration.ofSeconds((long) num(c, "startupProbe", "periodSeconds")
                * num(c, "startupProbe", "failureThreshold"));
        assertThat(startup).as(what + ": startup probe budget (model load of minutes)")
                .isGreaterThanOrEqualTo(MIN_STARTUP_BUDGET);
        int port = num(appYaml, "server", "port");
        assertThat(list(c, "ports")).as(what + ": container port http is server.port")
                .anySatisfy(p -> assertThat(p).containsEntry("name", "http").containsEntry("containerPort", port));

        // security
        assertThat(at(pod, "securityContext", "runAsNonRoot")).as(what + " runAsNonRoot").isEqualTo(true);
        assertThat(at(pod, "securityContext", "runAsUser")).as(what + " runAsUser").isEqualTo(10001);
        assertThat(at(c, "securityContext", "readOnlyRootFilesystem")).as(what + " read-only root").isEqualTo(true);
        assertThat(at(c, "securityContext", "allowPrivilegeEscalation")).as(what).isEqualTo(false);
        assertThat(mountPath(c, "tmp")).as(what + ": writable /tmp").isEqualTo("/tmp");
        assertThat(volume(d, "tmp")).as(what + ": /tmp is an emptyDir").containsKey("emptyDir");
        assertThat(mountPath(c, "dshm")).as(what + ": /dev/shm").isEqualTo("/dev/shm");
        assertThat(at(volume(d, "dshm"), "emptyDir", "medium")).as(what + ": /dev/shm in memory").isEqualTo("Memory");

        // config where Spring reads it
        assertThat(list(c, "env")).as(what + ": Spring reads /config/application.yaml")
                .anySatisfy(e -> assertThat(e).containsEntry("name", "SPRING_CONFIG_ADDITIONAL_LOCATION")
                        .containsEntry("value", "optional:file:/config/"));
        assertThat(mountPath(c, "config")).as(what + ": config mount").isEqualTo("/config");
        assertThat(at(volume(d, "config"), "configMap", "name")).as(what + ": config volume is a ConfigMap").isNotNull();

        // drain
        Duration drain = parseDuration(str(appYaml, "paddock", "drain-timeout"));
        assertThat(Duration.ofSeconds(num(pod, "terminationGracePeriodSeconds")))
                .as(what + ": terminationGracePeriodSeconds exceeds paddock.drain-timeout").isGreaterThan(drain);

        // models
        String modelsAt = mountPath(c, "models");
        assertThat(modelsAt).as(what + ": models mount").isNotNull();
        assertThat(list(c, "volumeMounts")).filteredOn(m -> "models".equals(m.get("name")))
                .allSatisfy(m -> assertThat(m.get("readOnly")).as(what + ": the server mounts models read-only")
                        .isEqualTo(true));
        assertThat(str(appYaml, "paddock", "model", "path").split(","))
                .as(what + ": paddock.model.path lies under the models mount").isNotEmpty()
                .allSatisfy(p -> assertThat(p).startsWith(modelsAt + "/"));
    }

    /** Whether the pod asks for a GPU anywhere (requests or limits of any container). */
    static boolean requestsGpu(Map<String, Object> deployment) {
        return list(deployment, "spec", "template", "spec", "containers").stream()
                .anyMatch(c -> String.valueOf(at(c, "resources")).contains("nvidia.com/gpu"));
    }
}
