package io.paddock.config;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * {@code paddock.*} settings.
 *
 * @param model  what to serve and with how many threads
 * @param engine admission limits and request defaults
 */
@ConfigurationProperties("paddock")
public record PaddockProperties(@DefaultValue Model model, @DefaultValue Engine engine) {

    /**
     * @param path    a Hugging Face model directory; empty serves the embedded demo model
     * @param threads compute threads for the CPU runtime; 0 means one per available core
     */
    public record Model(String path, @DefaultValue("0") int threads) {
        public int effectiveThreads() {
            return threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        }
    }

    /**
     * @param maxQueued        requests allowed to wait for the engine before new ones are refused (503)
     * @param defaultMaxTokens completion length when a request gives no max_tokens (OpenAI's default is 16)
     */
    public record Engine(@DefaultValue("64") int maxQueued, @DefaultValue("16") int defaultMaxTokens) {}
}
