package io.paddock.chat;

import tools.jackson.databind.JsonNode;

/**
 * A function the model may call: OpenAI's {@code tools[i].function} (or a legacy {@code functions[i]}).
 *
 * @param name        the function's name ({@code ^[a-zA-Z0-9_-]{1,64}$}, checked at the edge)
 * @param description what it does, for the model; may be null
 * @param parameters  the JSON Schema of its arguments object; null for a function without parameters
 * @param strict      OpenAI's {@code strict}: every keyword of {@code parameters} must be enforced (else a 400)
 */
public record ToolDefinition(String name, String description, JsonNode parameters, boolean strict) {
    public ToolDefinition {
        if (name == null || name.isEmpty()) throw new IllegalArgumentException("a tool needs a name");
    }

    /** A non-strict function (OpenAI's default). */
    public ToolDefinition(String name, String description, JsonNode parameters) {
        this(name, description, parameters, false);
    }
}
