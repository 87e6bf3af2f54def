package io.paddock.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.swagger.v3.oas.annotations.media.Schema;
import java.util.List;

/** {@code GET /v1/models}: the served models, as OpenAI lists them (plus vLLM's {@code max_model_len}). */
@Schema(name = "ListModelsResponse")
public record ModelList(@Schema(allowableValues = "list") String object, List<Card> data) {

    static ModelList of(List<Card> data) {
        return new ModelList("list", data);
    }

    @Schema(name = "Model")
    public record Card(String id, @Schema(allowableValues = "model") String object, long created,
            @JsonProperty("owned_by") String ownedBy, @JsonProperty("max_model_len") int maxModelLen,
            String description) {}
}
