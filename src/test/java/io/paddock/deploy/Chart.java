package io.paddock.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.marcnuri.helm.DryRun;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.InstallCommand;
import com.marcnuri.helm.LintResult;
import com.marcnuri.helm.TemplateCommand;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/** The chart under helm/paddock, driven through helm-java (Helm's own Go code, offline). */
final class Chart {
    static final Path DIR = Path.of("helm/paddock");
    static final String RELEASE = "paddock";
    static final String NAMESPACE = "llm";
    /** The cluster version templates render for (helm-java alone would assume 1.20; the chart needs 1.25+). */
    static final String KUBE_VERSION = "v1.32.0";

    private Chart() {}

    /** The chart's CI values files (Helm chart-testing's ci/*-values.yaml convention). */
    static List<Path> ciValuesFiles() {
        try (Stream<Path> s = Files.list(DIR.resolve("ci"))) {
            return s.filter(p -> p.getFileName().toString().endsWith("-values.yaml")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** helm template with the default values plus valuesFile (null: defaults only) and extra --set pairs. */
    static String template(Path valuesFile, Object... setPairs) {
        TemplateCommand t = new Helm(DIR).template().withName(RELEASE).withNamespace(NAMESPACE)
                .withKubeVersion(KUBE_VERSION);
        if (valuesFile != null) t = t.withValuesFile(valuesFile);
        for (int i = 0; i < setPairs.length; i += 2) t = t.set((String) setPairs[i], setPairs[i + 1]);
        return t.call();
    }

    /** What helm install prints (a client-side dry run: no cluster), NOTES.txt included. */
    static String installDryRunOutput(Path valuesFile) {
        InstallCommand i = new Helm(DIR).install().withName(RELEASE).withNamespace(NAMESPACE)
                .withKubeVersion(KUBE_VERSION).clientOnly().withDryRunOption(DryRun.CLIENT);
        if (valuesFile != null) i = i.withValuesFile(valuesFile);
        return i.call().getOutput();
    }

    static List<Map<String, Object>> render(Path valuesFile, Object... setPairs) {
        return K8sObjects.parse(template(valuesFile, setPairs));
    }

    /**
     * helm lint --strict with valuesFile merged over values.yaml (helm-java's lint takes no values file, so it runs
     * on a copy of the chart whose values.yaml is the merge; values.schema.json still checks the result).
     */
    static LintResult lintStrict(Path valuesFile, Path workDir) throws IOException {
        if (valuesFile == null) return new Helm(DIR).lint().strict().call();
        Path copy = workDir.resolve("paddock");
        try (Stream<Path> s = Files.walk(DIR)) {
            for (Path p : s.toList()) {
                Path target = copy.resolve(DIR.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(target);
                else Files.copy(p, target);
            }
        }
        Map<String, Object> merged = K8sObjects.mergeValues(loadYaml(DIR.resolve("values.yaml")), loadYaml(valuesFile));
        DumperOptions opts = new DumperOptions();
        opts.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        Files.writeString(copy.resolve("values.yaml"), new Yaml(opts).dump(merged));
        return new Helm(copy).lint().strict().call();
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> loadYaml(Path file) throws IOException {
        Object o = new Yaml(new SafeConstructor(new LoaderOptions())).load(Files.readString(file));
        return o == null ? Map.of() : (Map<String, Object>) o;
    }

    /** The application.yaml the chart's ConfigMap carries, parsed. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> applicationYaml(List<Map<String, Object>> objects) {
        Map<String, Object> cm = objects.stream().filter(o -> "ConfigMap".equals(o.get("kind")))
                .filter(o -> K8sObjects.at(o, "data", "application.yaml") != null).findFirst().orElseThrow();
        Object parsed = new Yaml(new SafeConstructor(new LoaderOptions()))
                .load(K8sObjects.str(cm, "data", "application.yaml"));
        assertThat(parsed).as("application.yaml is a mapping").isInstanceOf(Map.class);
        return (Map<String, Object>) parsed;
    }
}
