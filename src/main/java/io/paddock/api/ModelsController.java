package io.paddock.api;

import io.paddock.engine.GenerationService;
import io.paddock.engine.LoadedModel;
import java.util.List;
import java.util.Map;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RestController;

/** {@code GET /v1/models} and {@code GET /v1/models/{id}}, plus {@code GET /health}. */
@RestController
class ModelsController {
    private final GenerationService engine;
    private final long created = java.time.Instant.now().getEpochSecond();

    ModelsController(GenerationService engine) {
        this.engine = engine;
    }

    @GetMapping("/v1/models")
    Map<String, Object> list() {
        return Map.of("object", "list", "data", List.of(card(engine.model())));
    }

    @GetMapping("/v1/models/{id}")
    Map<String, Object> one(@PathVariable String id) {
        LoadedModel m = engine.model();
        if (!m.id().equals(id)) {
            throw new ApiException(HttpStatus.NOT_FOUND, "The model '" + id + "' does not exist",
                    "invalid_request_error", "model", "model_not_found");
        }
        return card(m);
    }

    @GetMapping("/health")
    Map<String, Object> health() {
        return Map.of("status", "ok", "model", engine.model().id(), "pending", engine.pending());
    }

    private Map<String, Object> card(LoadedModel m) {
        return Map.of("id", m.id(), "object", "model", "created", created, "owned_by", "paddock",
                "max_model_len", m.contextLength(), "description", m.description());
    }
}
