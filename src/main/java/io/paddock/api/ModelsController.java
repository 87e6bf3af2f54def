package io.paddock.api;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.paddock.engine.GenerationService;
import io.paddock.engine.RequestRejectedException;
import io.paddock.engine.ModelRegistry;
import io.paddock.loading.LoadedModel;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RestController;

/** {@code GET /v1/models}, {@code GET /v1/models/{id}}, and the probes {@code /health} and {@code /ready}. */
@RestController
class ModelsController {
    private final ModelRegistry models;
    private final long created = Instant.now().getEpochSecond();

    ModelsController(ModelRegistry models) {
        this.models = models;
    }

    @Operation(summary = "List models", operationId = "listModels", responses = @ApiResponse(responseCode = "200",
            content = @Content(schema = @Schema(implementation = OpenAiSchemas.ModelList.class))))
    @GetMapping("/v1/models")
    Map<String, Object> list() {
        return Map.of("object", "list", "data", models.all().stream().map(s -> card(s.model())).toList());
    }

    @Operation(summary = "Retrieve a model", operationId = "retrieveModel", responses = {
        @ApiResponse(responseCode = "200", content = @Content(schema = @Schema(implementation = OpenAiSchemas.Model.class))),
        @ApiResponse(responseCode = "404", content = @Content(schema = @Schema(implementation = OpenAiSchemas.Error.class)))})
    @GetMapping("/v1/models/{id}")
    Map<String, Object> one(@PathVariable String id) {
        GenerationService s = models.find(id).orElseThrow(() -> RequestRejectedException.notFound("model",
                "The model '" + id + "' does not exist", "model_not_found"));
        return card(s.model());
    }

    /** Liveness: the process answers. */
    @GetMapping("/health")
    Map<String, Object> health() {
        return Map.of("status", "ok");
    }

    /** Readiness: every model loaded and its engine accepting work. */
    @GetMapping("/ready")
    ResponseEntity<Map<String, Object>> ready() {
        List<Map<String, Object>> engines = models.all().stream().map(s -> {
            var st = s.stats();
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("model", s.model().id());
            m.put("pending", s.pending());
            m.put("running", st.running());
            m.put("waiting", st.waiting());
            m.put("kv_blocks_free", st.blocksTotal() - st.blocksUsed());
            return m;
        }).toList();
        return ResponseEntity.ok(Map.of("status", "ready", "models", engines));
    }

    private Map<String, Object> card(LoadedModel m) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("id", m.id());
        c.put("object", "model");
        c.put("created", created);
        c.put("owned_by", "paddock");
        c.put("max_model_len", m.contextLength());
        c.put("description", m.description());
        return c;
    }
}
