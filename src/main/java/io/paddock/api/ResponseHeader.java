package io.paddock.api;

import java.time.Instant;
import java.util.UUID;

/**
 * What every response and chunk of one request repeats: its id, creation time, model and
 * {@code system_fingerprint} (which backend produced the output, e.g. {@code fp_paddock_cuda}).
 */
record ResponseHeader(String id, long created, String model, String systemFingerprint) {

    /** A new header: {@code prefix} is {@code cmpl} or {@code chatcmpl}; {@code runtime} the runtime's name. */
    static ResponseHeader create(String prefix, String model, String runtime) {
        return new ResponseHeader(prefix + "-" + UUID.randomUUID().toString().replace("-", ""),
                Instant.now().getEpochSecond(), model, fingerprint(runtime));
    }

    static String fingerprint(String runtimeName) {
        return "fp_paddock_" + runtimeName;
    }
}
