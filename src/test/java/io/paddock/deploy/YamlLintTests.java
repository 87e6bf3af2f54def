package io.paddock.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * yamllint over the YAML under helm/ (chart templates left out: they are not YAML until rendered), k8s/ and
 * monitoring/. Skips where yamllint is missing (.ci/run installs it as root).
 */
class YamlLintTests {
    /**
     * yamllint's defaults, without a line length (alert descriptions are long one-line strings) and without a
     * required "---" or quoted truthy keys.
     */
    static final String CONFIG = """
            {extends: default, rules: {line-length: disable, document-start: disable, \
            truthy: {allowed-values: ['true', 'false'], check-keys: false}, \
            comments: {min-spaces-from-content: 1}, indentation: {indent-sequences: consistent}}}""";

    static List<String> yamlFiles() throws IOException {
        List<String> out = new ArrayList<>();
        for (String root : List.of("helm", "k8s", "monitoring")) {
            Path r = Path.of(root);
            if (!Files.isDirectory(r)) continue;
            try (Stream<Path> s = Files.walk(r)) {
                s.filter(Files::isRegularFile)
                        .filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml"))
                        .filter(p -> !p.toString().contains("/templates/"))
                        .map(Path::toString).sorted().forEach(out::add);
            }
        }
        return out;
    }

    @Test
    void yamlUnderHelmK8sAndMonitoringIsClean() throws Exception {
        assumeTrue(K8sObjects.commandWorks("yamllint", "--version"),
                "skipped: yamllint is not installed (apt-get install yamllint)");
        List<String> files = yamlFiles();
        assertThat(files).as("YAML files to lint").anyMatch(f -> f.startsWith("helm/")).anyMatch(f -> f.startsWith("k8s/"));
        List<String> cmd = new ArrayList<>(List.of("yamllint", "--strict", "-f", "parsable", "-d", CONFIG));
        cmd.addAll(files);
        K8sObjects.Result r = K8sObjects.run(cmd, null, 120, Path.of("."));
        assertThat(r.exit()).as("yamllint:\n" + r.out()).isZero();
    }
}
