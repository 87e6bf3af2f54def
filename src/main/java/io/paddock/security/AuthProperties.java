package io.paddock.security;

import java.time.Duration;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * {@code paddock.auth.*}: API keys and their limits. With no key configured (neither here nor in the keys file) the
 * server is open.
 *
 * @param keys        named keys with their limits
 * @param keysFile    a YAML or JSON file with more keys ({@code keys: [...]}, same fields), e.g. a mounted Kubernetes
 *                    Secret; read once at start-up
 * @param openPaths   path patterns served without a key
 * @param limitWindow the window of the "per minute" limits; one minute except in tests that need a limit to reset
 *                    quickly
 */
@ConfigurationProperties("paddock.auth")
public record AuthProperties(List<Key> keys, String keysFile,
        @DefaultValue({"/health", "/ready", "/metrics", "/actuator/**", "/v3/api-docs/**", "/swagger-ui*",
                "/swagger-ui/**", "/webjars/**"}) List<String> openPaths,
        @DefaultValue("1m") Duration limitWindow) {

    public AuthProperties {
        keys = keys == null ? List.of() : List.copyOf(keys);
        openPaths = List.copyOf(openPaths);
        if (limitWindow.isNegative() || limitWindow.isZero()) {
            throw new IllegalArgumentException("paddock.auth.limit-window must be positive, got " + limitWindow);
        }
    }

    /**
     * One key. Exactly one of {@code key} and {@code keySha256} is given; a limit of 0 means none.
     *
     * @param name                  who the key belongs to: shown in metrics, logs and 429 messages (never the key)
     * @param key                   the key itself
     * @param keySha256             instead of the key: its SHA-256, 64 hex digits ({@code printf %s KEY | sha256sum})
     * @param requestsPerMinute     requests admitted per window
     * @param tokensPerMinute       prompt + completion tokens per window (max_tokens reserved at admission)
     * @param maxConcurrentRequests requests in flight at once
     * @param admin                 whether the key may load and unload LoRA adapters at run time
     */
    public record Key(String name, String key, String keySha256, @DefaultValue("0") int requestsPerMinute,
            @DefaultValue("0") int tokensPerMinute, @DefaultValue("0") int maxConcurrentRequests,
            @DefaultValue("false") boolean admin) {
        @Override
        public String toString() {
            return "Key[name=" + name + "]";
        }
    }
}
