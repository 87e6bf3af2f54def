package io.paddock.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.paddock.engine.GenerationService;
import io.paddock.engine.RequestRejectedException;
import io.paddock.engine.ModelRegistry;
import io.paddock.engine.ServedAdapter;
import io.paddock.loading.LoadedModel;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
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

    /** Every base model, each followed by the LoRA adapters served on it. */
    @Operation(summary = "List models (LoRA adapters included, with their base as parent)", operationId = "listModels")
    @GetMapping("/v1/models")
    ModelList list() {
        List<ModelList.Card> cards = new ArrayList<>();
        for (GenerationService s : models.all()) {
            cards.add(card(s.model()));
            for (ServedAdapter a : s.adapters().list()) cards.add(card(s.model(), a));
        }
        return ModelList.of(cards);
    }

    @Operation(summary = "Retrieve a model", operationId = "retrieveModel", responses = {
        @ApiResponse(responseCode = "200", content = @Content(schema = @Schema(implementation = ModelList.Card.class))),
        @ApiResponse(responseCode = "404", content = @Content(schema = @Schema(implementation = OpenAiError.class)))})
    @GetMapping("/v1/models/{id}")
    ModelList.Card one(@PathVariable String id) {
        ModelRegistry.Resolved r = models.tryResolve(id).orElseThrow(() -> RequestRejectedException.notFound("model",
                "The model '" + id + "' does not exist", "model_not_found"));
        if (r.adapter() == null) return card(r.service().model());
        return r.service().adapters().find(r.adapter()).map(a -> card(r.service().model(), a))
                .orElseThrow(() -> RequestRejectedException.notFound("model", "The model '" + id + "' does not exist",
                        "model_not_found"));
    }

    public record Health(String status) {}

    /** One engine's state in {@code /ready}: whether it takes requests, why not, and its load. */
    public record EngineState(String model, boolean ready, String breaker, int pending, int running, int waiting,
            @JsonProperty("queued_prompt_tokens") long queuedPromptTokens,
            @JsonProperty("kv_blocks_free") int kvBlocksFree) {}

    public record Readiness(String status, List<EngineState> models) {}

    /** Liveness: the process answers. */
    @GetMapping("/health")
    Health health() {
        return new Health("ok");
    }

    /**
     * Readiness: 200 while every engine takes work; 503 while one drains for shutdown or its runtime keeps failing
     * (the step breaker is open), so a load balancer sends traffic elsewhere.
     */
    @GetMapping("/ready")
    ResponseEntity<Readiness> ready() {
        List<EngineState> engines = models.all().stream().map(s -> {
            var st = s.stats();
            return new EngineState(s.model().id(), s.ready(), s.breakerState(), s.pending(), st.running(),
                    st.waiting(), s.queuedPromptTokens(), st.blocksTotal() - st.blocksUsed());
        }).toList();
        boolean ready = engines.stream().allMatch(EngineState::ready);
        return ResponseEntity.status(ready ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE)
                .body(new Readiness(ready ? "ready" : "unavailable", engines));
    }

    private ModelList.Card card(LoadedModel m) {
        return new ModelList.Card(m.id(), "model", created, "paddock", m.id(), null, m.contextLength(),
                m.description());
    }

    private ModelList.Card card(LoadedModel base, ServedAdapter a) {
        return new ModelList.Card(a.name(), "model", created, "paddock", a.dir() == null ? null : a.dir().toString(),
                base.id(), base.contextLength(), "LoRA adapter on " + base.id());
    }
}
