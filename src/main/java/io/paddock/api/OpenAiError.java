package io.paddock.api;

import com.fasterxml.jackson.annotation.JsonInclude;

/** OpenAI's error body: {@code {"error":{"message","type","param","code"}}}; param and code are strings or null. */
public record OpenAiError(Body error) {
    @JsonInclude(JsonInclude.Include.ALWAYS)
    public record Body(String message, String type, String param, String code) {}

    public static OpenAiError of(String message, String type, String param, String code) {
        return new OpenAiError(new Body(message, type, param, code));
    }
}
