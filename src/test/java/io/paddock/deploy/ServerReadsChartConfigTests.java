package io.paddock.deploy;

import static io.paddock.deploy.K8sObjects.one;
import static io.paddock.deploy.K8sObjects.str;
import static org.assertj.core.api.Assertions.assertThat;

import io.paddock.config.PaddockProperties;
import io.paddock.security.ApiKey;
import io.paddock.security.ApiKeys;
import io.paddock.security.AuthProperties;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.boot.context.properties.bind.BindHandler;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.bind.handler.NoUnboundElementsBindHandler;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.boot.convert.ApplicationConversionService;
import org.springframework.boot.env.YamlPropertySourceLoader;
import org.springframework.boot.origin.OriginTrackedValue;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.io.ByteArrayResource;
import org.springframework.util.unit.DataSize;

/**
 * What the chart writes is what the server reads: the rendered application.yaml binds to {@link PaddockProperties}
 * with no paddock.* key left unbound (a misspelt setting would otherwise be ignored), and the keys file of the
 * chart-made Secret loads through {@link ApiKeys}, the server's own reader.
 */
class ServerReadsChartConfigTests {

    static List<Path> valuesFiles() {
        return Chart.ciValuesFiles();
    }

    /** Binds paddock.* (less paddock.auth.*, which is AuthProperties') with every key required to bind. */
    static PaddockProperties bindPaddock(List<Map<String, Object>> objects) throws Exception {
        Map<String, Object> props = new java.util.LinkedHashMap<>(flat(objects));
        props.keySet().removeIf(k -> k.startsWith("paddock.auth."));
        Binder binder = binder(props);
        return binder.bind("paddock", Bindable.of(PaddockProperties.class),
                new NoUnboundElementsBindHandler(BindHandler.DEFAULT)).get();
    }

    static AuthProperties bindAuth(List<Map<String, Object>> objects) throws Exception {
        Binder binder = binder(flat(objects));
        return binder.bind("paddock.auth", Bindable.of(AuthProperties.class),
                new NoUnboundElementsBindHandler(BindHandler.DEFAULT)).get();
    }

    /** A binder as the application has: Boot's conversions (durations, data sizes, OriginTrackedValue). */
    private static Binder binder(Map<String, Object> props) {
        return new Binder(ConfigurationPropertySources.from(new MapPropertySource("application.yaml", props)), null,
                ApplicationConversionService.getSharedInstance());
    }

    /** The rendered application.yaml as Spring loads it: flattened property names. */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> flat(List<Map<String, Object>> objects) throws Exception {
        String yaml = str(configMap(objects), "data", "application.yaml");
        var sources = new YamlPropertySourceLoader().load("application.yaml", new ByteArrayResource(yaml.getBytes()));
        Map<String, Object> out = new java.util.LinkedHashMap<>();
        ((Map<String, Object>) sources.getFirst().getSource())
                .forEach((k, v) -> out.put(k, v instanceof OriginTrackedValue o ? o.getValue() : v));
        return out;
    }

    private static Map<String, Object> configMap(List<Map<String, Object>> objects) {
        return objects.stream().filter(o -> "ConfigMap".equals(o.get("kind")))
                .filter(o -> K8sObjects.at(o, "data", "application.yaml") != null).findFirst().orElseThrow();
    }

    @ParameterizedTest
    @MethodSource("valuesFiles")
    void applicationYamlBindsWithNoUnknownPaddockKey(Path valuesFile) throws Exception {
        PaddockProperties p = bindPaddock(Chart.render(valuesFile));
        assertThat(p.drainTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(p.model().path()).isNotEmpty().allSatisfy(m -> assertThat(m).startsWith("/models/"));
    }

    @Test
    void aMisspeltSettingFailsTheBinding() {
        List<Map<String, Object>> objects = Chart.render(null, "paddock.extraConfig.paddock.engine.max-num-seq", 3);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> bindPaddock(objects))
                .hasStackTraceContaining("paddock.engine.max-num-seq");
    }

    @Test
    void gpuValuesGiveTheEngineSettingsTheyName() throws Exception {
        PaddockProperties p = bindPaddock(Chart.render(Chart.DIR.resolve("ci/gpu-values.yaml")));
        assertThat(p.runtime()).isEqualTo("cuda");
        assertThat(p.model().path()).containsExactly("/models/guanaco-65B-GPTQ");
        assertThat(p.engine().maxNumSeqs()).isEqualTo(16);
        assertThat(p.engine().maxQueued()).isEqualTo(64);
        assertThat(p.engine().maxQueuedPromptTokens()).isEqualTo(65536);
        assertThat(p.engine().maxQueueWait()).isEqualTo(Duration.ofSeconds(60));
        assertThat(p.engine().kvCacheMemory()).isEqualTo(DataSize.ofGigabytes(30));
    }

    @Test
    void theChartsKeysSecretLoadsThroughTheServersReader(@TempDir Path dir) throws Exception {
        List<Map<String, Object>> objects = Chart.render(Chart.DIR.resolve("ci/keys-values.yaml"));
        Path file = Files.writeString(dir.resolve("keys.yaml"), str(one(objects, "Secret"), "stringData", "keys.yaml"));
        AuthProperties auth = bindAuth(objects);
        assertThat(auth.keysFile()).isEqualTo("/etc/paddock/keys/keys.yaml");
        ApiKeys keys = ApiKeys.from(new AuthProperties(auth.keys(), file.toString(), auth.openPaths(), auth.limitWindow()));
        assertThat(keys.all()).extracting(ApiKey::name).containsExactly("team-a", "team-b");
        ApiKey a = keys.all().getFirst();
        assertThat(a.requestsPerMinute()).isEqualTo(600);
        assertThat(a.tokensPerMinute()).isEqualTo(200000);
        assertThat(a.maxConcurrentRequests()).isEqualTo(8);
    }
}
