package io.paddock.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import tools.jackson.databind.json.JsonMapper;

/**
 * Rendered Kubernetes manifests: parsing, schema validation with the npm {@code kubernetes-models} package (through
 * src/test/js/k8s-validate.mjs: its schemas, and its type declarations for fields the API does not define) and
 * hand-written checks of the Prometheus operator's custom resources, which that
 * package does not model.
 */
final class K8sObjects {
    static final Path JS_DIR = Path.of("src/test/js");
    private static final Pattern PROM_DURATION = Pattern.compile("^(([0-9]+)(ms|s|m|h|d|w|y))+$");
    private static final Set<String> CRD_KINDS = Set.of("ServiceMonitor", "PrometheusRule");
    private static volatile Boolean npmInstallTried;

    private K8sObjects() {}

    /** The documents of a multi-document YAML stream, empty ones left out. */
    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> parse(String yaml) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Object doc : new Yaml(new SafeConstructor(new LoaderOptions())).loadAll(yaml)) {
            if (doc == null) continue;
            assertThat(doc).as("a manifest document is a mapping").isInstanceOf(Map.class);
            out.add((Map<String, Object>) doc);
        }
        return out;
    }

    /** Skips (with the reason) where node or the kubernetes-models package is missing; installs it once if npm can. */
    static void assumeValidatorAvailable() {
        assumeTrue(commandWorks("node", "--version"), "skipped: node is not installed (needed for kubernetes-models)");
        Path pkg = JS_DIR.resolve("node_modules/kubernetes-models/package.json");
        if (!Files.exists(pkg) && npmInstallTried == null) {
            synchronized (K8sObjects.class) {
                if (npmInstallTried == null) {
                    npmInstallTried = true;
                    if (commandWorks("npm", "--version")) {
                        run(List.of("npm", "install", "--prefix", JS_DIR.toString(), "--no-audit", "--no-fund",
                                "--loglevel=error"), null, 300, Path.of("."));
                    }
                }
            }
        }
        assumeTrue(Files.exists(pkg), "skipped: the kubernetes-models npm package is not installed and npm could not "
                + "install it (run: npm install --prefix src/test/js)");
    }

    /**
     * Every object validated: built-in kinds against the Kubernetes schemas (kubernetes-models), ServiceMonitor and
     * PrometheusRule by hand; an object of any other unknown kind fails.
     */
    static void validate(String what, List<Map<String, Object>> objects) {
        assumeValidatorAvailable();
        assertThat(objects).as(what + ": rendered objects").isNotEmpty();
        for (Map<String, Object> o : objects) {
            assertThat(o).as(what + ": object has apiVersion, kind and metadata.name").containsKeys("apiVersion", "kind",
                    "metadata");
            assertThat(str(o, "metadata", "name")).as(what + ": metadata.name").isNotBlank();
        }
        String json = JsonMapper.builder().build().writeValueAsString(objects);
        Result r = run(List.of("node", "k8s-validate.mjs"), json, 120, JS_DIR);
        assertThat(r.exit).as(what + ": kubernetes-models validation\n" + r.out).isZero();
        List<String> lines = r.out.lines().filter(l -> !l.startsWith(" ")).toList();
        assertThat(lines).as(what + ": one verdict per object\n" + r.out).hasSize(objects.size());
        for (int i = 0; i < objects.size(); i++) {
            Map<String, Object> o = objects.get(i);
            String verdict = lines.get(i);
            if (verdict.startsWith("unknown ")) {
                assertThat(CRD_KINDS).as(what + ": a kind neither kubernetes-models nor these checks know: " + verdict)
                        .contains((String) o.get("kind"));
                checkCustomResource(what, o);
            } else {
                assertThat(verdict).as(what).startsWith("ok ");
            }
        }
    }

    /** Required fields of the Prometheus operator's ServiceMonitor and PrometheusRule (monitoring.coreos.com/v1). */
    static void checkCustomResource(String what, Map<String, Object> o) {
        String kind = (String) o.get("kind");
        String where = what + ": " + kind + " " + str(o, "metadata", "name");
        assertThat(o.get("apiVersion")).as(where + " apiVersion").isEqualTo("monitoring.coreos.com/v1");
        Map<String, Object> spec = map(o, "spec");
        assertThat(spec).as(where + " spec").isNotNull();
        switch (kind) {
            case "ServiceMonitor" -> {
                assertThat(spec.get("selector")).as(where + " spec.selector").isInstanceOf(Map.class);
                List<Map<String, Object>> endpoints = list(spec, "endpoints");
                assertThat(endpoints).as(where + " spec.endpoints").isNotEmpty();
                for (Map<String, Object> e : endpoints) {
                    assertThat(e.get("port") instanceof String || e.get("targetPort") != null)
                            .as(where + " endpoint names a port: " + e).isTrue();
                    if (e.containsKey("path")) assertThat((String) e.get("path")).as(where + " path").startsWith("/");
                    for (String d : List.of("interval", "scrapeTimeout")) {
                        if (e.containsKey(d)) assertThat((String) e.get(d)).as(where + " " + d).matches(PROM_DURATION);
                    }
                }
            }
            case "PrometheusRule" -> checkRuleGroups(where, list(spec, "groups"));
            default -> throw new AssertionError(where + ": not a known custom resource");
        }
    }

    /** A Prometheus rule file's groups: named uniquely, each rule an alert or a record with an expression. */
    static void checkRuleGroups(String where, List<Map<String, Object>> groups) {
        assertThat(groups).as(where + " groups").isNotEmpty();
        assertThat(groups.stream().map(g -> g.get("name")).toList()).as(where + " group names").doesNotHaveDuplicates()
                .allSatisfy(n -> assertThat(n).isInstanceOf(String.class));
        for (Map<String, Object> g : groups) {
            List<Map<String, Object>> rules = list(g, "rules");
            assertThat(rules).as(where + " group " + g.get("name") + " rules").isNotEmpty();
            for (Map<String, Object> rule : rules) {
                assertThat(rule.containsKey("alert") ^ rule.containsKey("record"))
                        .as(where + " rule is either an alert or a record: " + rule).isTrue();
                assertThat(rule.get("expr")).as(where + " rule expr: " + rule).isNotNull();
                assertThat(String.valueOf(rule.get("expr"))).as(where + " rule expr").isNotBlank();
                if (rule.containsKey("for")) {
                    assertThat(String.valueOf(rule.get("for"))).as(where + " rule for").matches(PROM_DURATION);
                }
                for (String m : List.of("labels", "annotations")) {
                    if (rule.get(m) instanceof Map<?, ?> mm) {
                        mm.values().forEach(v -> assertThat(v).as(where + " rule " + m + " values are strings")
                                .isInstanceOf(String.class));
                    }
                }
            }
        }
    }

    static List<Map<String, Object>> ofKind(List<Map<String, Object>> objects, String kind) {
        return objects.stream().filter(o -> kind.equals(o.get("kind"))).toList();
    }

    static Map<String, Object> one(List<Map<String, Object>> objects, String kind) {
        List<Map<String, Object>> found = ofKind(objects, kind);
        assertThat(found).as("exactly one " + kind).hasSize(1);
        return found.getFirst();
    }

    /** The value at a path of map keys, or null. */
    static Object at(Object o, String... path) {
        Object cur = o;
        for (String p : path) {
            if (!(cur instanceof Map<?, ?> m)) return null;
            cur = m.get(p);
        }
        return cur;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o, String... path) {
        return (Map<String, Object>) at(o, path);
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> list(Object o, String... path) {
        Object v = at(o, path);
        return v == null ? List.of() : (List<Map<String, Object>>) v;
    }

    static String str(Object o, String... path) {
        return Objects.toString(at(o, path), null);
    }

    /** Helm's value merge: maps merge key by key, anything else in the override replaces, null deletes. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> mergeValues(Map<String, Object> base, Map<String, Object> override) {
        Map<String, Object> out = new LinkedHashMap<>(base);
        override.forEach((k, v) -> {
            if (v == null) out.remove(k);
            else if (v instanceof Map<?, ?> vm && out.get(k) instanceof Map<?, ?> bm)
                out.put(k, mergeValues((Map<String, Object>) bm, (Map<String, Object>) vm));
            else out.put(k, v);
        });
        return out;
    }

    static boolean commandWorks(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getOutputStream().close();
            p.getInputStream().readAllBytes();
            return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    record Result(int exit, String out) {}

    /** Runs a command in dir (stdout and stderr together), feeding it stdin when given. */
    static Result run(List<String> cmd, String stdin, int timeoutSeconds, Path dir) {
        try {
            Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
            Thread feeder = Thread.ofVirtual().start(() -> {
                try (var in = p.getOutputStream()) {
                    if (stdin != null) in.write(stdin.getBytes(StandardCharsets.UTF_8));
                } catch (IOException ignored) {
                    // the process exited early; its output says why
                }
            });
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(String.join(" ", cmd) + " did not finish in " + timeoutSeconds + " s");
            }
            feeder.join();
            return new Result(p.exitValue(), out);
        } catch (IOException e) {
            throw new AssertionError("could not run " + String.join(" ", cmd), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
