package io.paddock.security;

import io.paddock.engine.RequestRejectedException;

/**
 * A key went over one of its limits: a 429 whose OpenAI error type is {@code requests} or {@code tokens}, with the
 * seconds to wait for {@code Retry-After} (null where waiting cannot help: a request larger than the whole bucket).
 */
public final class RateLimitExceeded extends RequestRejectedException {
    /** The metric tag: which limit refused the request. */
    public enum Limit { REQUESTS, TOKENS, CONCURRENCY; String tag() { return name().toLowerCase(); } }

    private final Limit limit;
    private final String retryAfter;

    RateLimitExceeded(Limit limit, String message, String retryAfter) {
        super(Reason.RATE_LIMITED, message, null, "rate_limit_exceeded");
        this.limit = limit;
        this.retryAfter = retryAfter;
    }

    public Limit limit() { return limit; }

    /** OpenAI's error type for a rate limit: {@code tokens} for the token limit, else {@code requests}. */
    public String type() { return limit == Limit.TOKENS ? "tokens" : "requests"; }

    /** Whole seconds for {@code Retry-After}, at least 1; null when a retry cannot succeed. */
    public String retryAfter() { return retryAfter; }
}
