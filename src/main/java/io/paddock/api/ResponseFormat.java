package io.paddock.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.swagger.v3.oas.annotations.media.Schema;
import tools.jackson.databind.JsonNode;

/**
 * {@code response_format}: {@code {"type": "text"}}, {@code {"type": "json_object"}} or
 * {@code {"type": "json_schema", "json_schema": {"name", "description", "schema", "strict"}}}. JSON output is
 * enforced by a grammar while decoding; nothing is added to the prompt (see docs/tool-calling.md).
 */
@Schema(name = "ResponseFormat", description = "The output's format: free text, any JSON object, or JSON that follows"
        + " a JSON Schema (enforced while decoding).")
public record ResponseFormat(
        @Schema(allowableValues = {"text", "json_object", "json_schema"}, requiredMode = Schema.RequiredMode.REQUIRED)
        String type,
        @JsonProperty("json_schema") JsonSchema jsonSchema) {

    /** The schema of a {@code json_schema} format. */
    @Schema(name = "ResponseFormatJsonSchema")
    public record JsonSchema(
            @Schema(description = "^[a-zA-Z0-9_-]{1,64}$", requiredMode = Schema.RequiredMode.REQUIRED) String name,
            String description,
            @Schema(description = "A JSON Schema (object); absent: any JSON object", type = "object") JsonNode schema,
            @Schema(description = "true: every keyword of the schema must be one generation enforces, else 400; false or"
                    + " absent: numeric bounds, pattern, uniqueItems, min/maxProperties are accepted but not enforced")
            Boolean strict) {}
}
