package io.paddock.api;

import io.swagger.v3.oas.annotations.media.Schema;
import tools.jackson.databind.JsonNode;

/** One entry of {@code tools}: {@code {"type": "function", "function": {"name", "description", "parameters", "strict"}}}. */
@Schema(name = "ChatCompletionTool")
public record ChatTool(@Schema(allowableValues = "function", requiredMode = Schema.RequiredMode.REQUIRED) String type,
        @Schema(requiredMode = Schema.RequiredMode.REQUIRED) Function function) {

    /** A function the model may call; also one entry of the legacy {@code functions}. */
    @Schema(name = "FunctionObject")
    public record Function(
            @Schema(description = "^[a-zA-Z0-9_-]{1,64}$", requiredMode = Schema.RequiredMode.REQUIRED) String name,
            String description,
            @Schema(description = "JSON Schema of the arguments object; absent: no parameters", type = "object")
            JsonNode parameters,
            @Schema(description = "true: every keyword of the schema must be one generation enforces, else 400; false or"
                    + " absent: numeric bounds, pattern, uniqueItems, min/maxProperties are accepted but not enforced")
            Boolean strict) {}
}
