package io.paddock.security;

/** OpenAI's rate-limit headers, and its durations in {@code x-ratelimit-reset-*}: Go's format, e.g. {@code 6m0s}. */
final class RateLimitHeaders {
    static final String LIMIT_REQUESTS = "x-ratelimit-limit-requests";
    static final String REMAINING_REQUESTS = "x-ratelimit-remaining-requests";
    static final String RESET_REQUESTS = "x-ratelimit-reset-requests";
    static final String LIMIT_TOKENS = "x-ratelimit-limit-tokens";
    static final String REMAINING_TOKENS = "x-ratelimit-remaining-tokens";
    static final String RESET_TOKENS = "x-ratelimit-reset-tokens";

    private RateLimitHeaders() {}

    /** Nanoseconds as Go prints a duration, rounded up to the millisecond: 0s, 17ms, 1s, 2.5s, 6m0s, 1h2m3s. */
    static String reset(long nanos) {
        long ms = nanos <= 0 ? 0 : (nanos + 999_999) / 1_000_000;
        if (ms == 0) return "0s";
        if (ms < 1000) return ms + "ms";
        long h = ms / 3_600_000, m = ms / 60_000 % 60, s = ms / 1000 % 60, frac = ms % 1000;
        StringBuilder out = new StringBuilder();
        if (h > 0) out.append(h).append('h');
        if (h > 0 || m > 0) out.append(m).append('m');
        out.append(s);
        if (frac > 0) out.append('.').append(String.format("%03d", frac).replaceAll("0+$", ""));
        return out.append('s').toString();
    }

    /** {@code Retry-After}: whole seconds, rounded up, at least 1. */
    static String retryAfter(long nanos) {
        return Long.toString(Math.max(1, (nanos + 999_999_999L) / 1_000_000_000L));
    }
}
