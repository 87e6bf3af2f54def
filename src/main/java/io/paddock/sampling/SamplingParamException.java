package io.paddock.sampling;

/**
 * A sampling parameter outside its allowed range. {@link #param()} carries the OpenAI-style parameter name
 * (e.g. {@code "top_p"}) so the HTTP layer can fill the {@code param} field of an OpenAI error object.
 */
public final class SamplingParamException extends IllegalArgumentException {
    private final String param;

    public SamplingParamException(String param, String message) {
        super(param + ": " + message);
        this.param = param;
    }

    /** The offending parameter's OpenAI-style name, e.g. {@code "temperature"} or {@code "logit_bias"}. */
    public String param() {
        return param;
    }
}
