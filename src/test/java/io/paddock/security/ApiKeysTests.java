package io.paddock.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.env.SystemEnvironmentPropertySource;

class ApiKeysTests {
    private static AuthProperties.Key plain(String name, String key) {
        return new AuthProperties.Key(name, key, null, 0, 0, 0, false);
    }

    private static AuthProperties props(List<AuthProperties.Key> keys, String file) {
        return new AuthProperties(keys, file, List.of("/health"), Duration.ofMinutes(1));
    }

    @Test
    void findsAKeyByItsHashAndKeepsNoPlainKey() {
        ApiKeys keys = ApiKeys.from(props(List.of(plain("alice", "sk-alice"), plain("bob", "sk-bob")), null));
        assertThat(keys.find(ApiKey.sha256("sk-bob"))).map(ApiKey::name).contains("bob");
        assertThat(keys.find(ApiKey.sha256("sk-bob "))).isEmpty();
        assertThat(keys.find(ApiKey.sha256(""))).isEmpty();
        assertThat(keys.all().toString()).doesNotContain("sk-alice").doesNotContain("sk-bob");
        assertThat(plain("alice", "sk-alice").toString()).doesNotContain("sk-alice");
    }

    @Test
    void acceptsTheSha256OfAKeyInsteadOfTheKey() {
        String hex = HexFormat.of().formatHex(ApiKey.sha256("sk-carol"));
        ApiKeys keys = ApiKeys.from(props(List.of(new AuthProperties.Key("carol", null, hex.toUpperCase(), 5, 0, 0, false),
                new AuthProperties.Key("dave", null, "sha256:" + HexFormat.of().formatHex(ApiKey.sha256("d")), 0, 0, 0, false)),
                null));
        assertThat(keys.find(ApiKey.sha256("sk-carol"))).map(ApiKey::requestsPerMinute).contains(5);
        assertThat(keys.find(ApiKey.sha256("d"))).map(ApiKey::name).contains("dave");
    }

    @Test
    void refusesKeysThatAreAmbiguousOrMalformed() {
        assertThatThrownBy(() -> ApiKeys.from(props(List.of(new AuthProperties.Key("x", "k", "00", 0, 0, 0, false)), null)))
                .hasMessageContaining("exactly one of key and key-sha256");
        assertThatThrownBy(() -> ApiKeys.from(props(List.of(new AuthProperties.Key("x", null, null, 0, 0, 0, false)), null)))
                .hasMessageContaining("exactly one");
        assertThatThrownBy(() -> ApiKeys.from(props(List.of(new AuthProperties.Key("x", null, "abc", 0, 0, 0, false)), null)))
                .hasMessageContaining("64 hex digits");
        assertThatThrownBy(() -> ApiKeys.from(props(List.of(plain(" ", "k")), null))).hasMessageContaining("name");
        assertThatThrownBy(() -> ApiKeys.from(props(List.of(plain("a", "k1"), plain("a", "k2")), null)))
                .hasMessageContaining("used twice");
        assertThatThrownBy(() -> ApiKeys.from(props(List.of(plain("a", "same"), plain("b", "same")), null)))
                .hasMessageContaining("repeats another key").hasMessageNotContaining("same");
        assertThatThrownBy(() -> ApiKeys.from(props(List.of(new AuthProperties.Key("a", "k", null, -1, 0, 0, false)), null)))
                .hasMessageContaining(">= 0");
    }

    @Test
    void readsKeysFromAYamlFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("keys.yaml");
        Files.writeString(file, """
                keys:
                  - name: alice
                    key: sk-alice
                    requests-per-minute: 60
                    tokens-per-minute: 10000
                    max-concurrent-requests: 2
                  - name: bob
                    keySha256: %s
                """.formatted(HexFormat.of().formatHex(ApiKey.sha256("sk-bob"))));
        ApiKeys keys = ApiKeys.from(props(List.of(plain("ops", "sk-ops")), file.toString()));
        assertThat(keys.all()).extracting(ApiKey::name).containsExactly("ops", "alice", "bob");
        ApiKey alice = keys.find(ApiKey.sha256("sk-alice")).orElseThrow();
        assertThat(List.of(alice.requestsPerMinute(), alice.tokensPerMinute(), alice.maxConcurrentRequests()))
                .containsExactly(60, 10000, 2);
        assertThat(keys.find(ApiKey.sha256("sk-bob"))).isPresent();
    }

    @Test
    void readsKeysFromAJsonFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("keys.json");
        Files.writeString(file, """
                {"keys": [{"name": "alice", "key": "sk-alice", "tokensPerMinute": 500}]}
                """);
        ApiKeys keys = ApiKeys.from(props(List.of(), file.toString()));
        assertThat(keys.find(ApiKey.sha256("sk-alice"))).map(ApiKey::tokensPerMinute).contains(500);
    }

    @Test
    void aBrokenKeysFileIsNamedWithoutQuotingIt(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("keys.yaml");
        Files.writeString(file, "keys: [ {name: a, key: sk-secret-value\n");
        assertThatThrownBy(() -> ApiKeys.from(props(List.of(), file.toString())))
                .hasMessageContaining(file.toString()).hasMessageNotContaining("sk-secret-value");
        assertThatThrownBy(() -> ApiKeys.from(props(List.of(), dir.resolve("missing.yaml").toString())))
                .hasMessageContaining("cannot be read");
    }

    @Test
    void keysBindFromEnvironmentVariables() {
        var env = new SystemEnvironmentPropertySource(StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
                Map.of("PADDOCK_AUTH_KEYS_0_NAME", "ci", "PADDOCK_AUTH_KEYS_0_KEY", "sk-ci",
                        "PADDOCK_AUTH_KEYS_0_REQUESTSPERMINUTE", "7", "PADDOCK_AUTH_LIMITWINDOW", "2s"));
        var defaults = new MapPropertySource("defaults", Map.of());
        AuthProperties p = new Binder(ConfigurationPropertySources.from(List.of(env, defaults)))
                .bindOrCreate("paddock.auth", AuthProperties.class);
        ApiKeys keys = ApiKeys.from(p);
        assertThat(keys.find(ApiKey.sha256("sk-ci"))).map(ApiKey::requestsPerMinute).contains(7);
        assertThat(p.limitWindow()).isEqualTo(Duration.ofSeconds(2));
        assertThat(p.openPaths()).contains("/health", "/actuator/**");
    }

    @Configuration(proxyBeanMethods = false)
    @EnableConfigurationProperties(AuthProperties.class)
    static class Props {}

    @Test
    void propertiesBindWithDefaults() {
        new ApplicationContextRunner().withUserConfiguration(Props.class).withPropertyValues(
                "paddock.auth.keys[0].name=a", "paddock.auth.keys[0].key=sk-a",
                "paddock.auth.keys[0].max-concurrent-requests=3").run(ctx -> {
                    AuthProperties p = ctx.getBean(AuthProperties.class);
                    assertThat(p.limitWindow()).isEqualTo(Duration.ofMinutes(1));
                    assertThat(p.openPaths()).contains("/health", "/ready", "/metrics", "/actuator/**",
                            "/v3/api-docs/**", "/swagger-ui*");
                    assertThat(p.keysFile()).isNull();
                    ApiKey a = ApiKeys.from(p).all().getFirst();
                    assertThat(List.of(a.requestsPerMinute(), a.tokensPerMinute(), a.maxConcurrentRequests()))
                            .containsExactly(0, 0, 3);
                });
        new ApplicationContextRunner().withUserConfiguration(Props.class)
                .withPropertyValues("paddock.auth.limit-window=0s")
                .run(ctx -> assertThat(ctx).hasFailed());
    }
}
