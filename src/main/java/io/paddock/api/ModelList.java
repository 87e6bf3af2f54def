package io.paddock.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.swagger.v3.oas.annotations.media.Schema;
import java.util.List;

/**
 * {@code GET /v1/models}: the served models, as OpenAI lists them, plus vLLM's {@code root}, {@code parent} and
 * {@code max_model_len}. A LoRA adapter is a card of its own: {@code parent} is its base model's id and {@code root}
 * the directory it was read from; a base model's {@code root} is its id and its {@code parent} null.
 */
@Schema(name = "ListModelsResponse")
public record ModelList(@Schema(allowableValues = "list") String object, List<Card> data) {

    static ModelList of(List<Card> data) {
        return new ModelList("list", data);
    }

    @Schema(name = "Model")
    @JsonInclude(JsonInclude.Include.ALWAYS)
    public record Card(String id, @Schema(allowableValues = "model") String object, long created,
            @JsonProperty("owned_by") String ownedBy, String root, String parent,
            @JsonProperty("max_model_len") int maxModelLen, String description) {}
}
