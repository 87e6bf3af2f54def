package io.paddock.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.paddock.config.PaddockProperties;
import io.paddock.engine.ModelRegistry;
import io.paddock.engine.RequestRejectedException;
import io.paddock.engine.ServedAdapter;
import io.paddock.security.ApiKeys;
import io.paddock.security.KeyedCall;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import tools.jackson.databind.JsonNode;

/**
 * vLLM's {@code POST /v1/load_lora_adapter} and {@code POST /v1/unload_lora_adapter}: LoRA adapters served from now
 * on, or no longer, without a restart. They exist only with {@code paddock.lora.runtime-updates=true} (the default;
 * otherwise 404 as any unknown path). Where API keys are configured only admin keys may call them (403 for others);
 * without keys they are open, like every endpoint. Answers are vLLM's plain-text success lines; refusals are
 * OpenAI-shaped errors.
 */
@RestController
@ConditionalOnProperty(name = "paddock.lora.runtime-updates", havingValue = "true", matchIfMissing = true)
class LoraAdaptersController {
    private static final Logger log = LoggerFactory.getLogger(LoraAdaptersController.class);

    private final ModelRegistry models;
    private final RequestMapper mapper;
    private final ApiKeys keys;
    private final Duration unloadTimeout;

    @Autowired
    LoraAdaptersController(ModelRegistry models, RequestMapper mapper, ApiKeys keys, PaddockProperties props) {
        this(models, mapper, keys, props.lora().unloadTimeout());
    }

    LoraAdaptersController(ModelRegistry models, RequestMapper mapper, ApiKeys keys, Duration unloadTimeout) {
        this.models = models;
        this.mapper = mapper;
        this.keys = keys;
        this.unloadTimeout = unloadTimeout;
    }

    /** {@code lora_name} to serve {@code lora_path} as, on {@code base_model_name} (absent: the default model). */
    public record LoadLoraAdapterRequest(@JsonProperty("lora_name") String loraName,
            @JsonProperty("lora_path") String loraPath, @JsonProperty("base_model_name") String baseModelName) {}

    public record UnloadLoraAdapterRequest(@JsonProperty("lora_name") String loraName,
            @JsonProperty("lora_int_id") Integer loraIntId) {}

    @Operation(summary = "Load a LoRA adapter (vLLM's extra; admin keys only where keys are configured)",
            operationId = "loadLoraAdapter",
            requestBody = @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, content = @Content(
                    schema = @Schema(implementation = LoadLoraAdapterRequest.class))),
            responses = {
                @ApiResponse(responseCode = "200", description = "Success: LoRA adapter 'NAME' added successfully.",
                        content = @Content(mediaType = "text/plain", schema = @Schema(type = "string"))),
                @ApiResponse(responseCode = "400", description = "already loaded, a name of a model, missing fields,"
                        + " or an adapter the server cannot read (the message names the file, tensor and shapes)",
                        content = @Content(schema = @Schema(implementation = OpenAiError.class))),
                @ApiResponse(responseCode = "403", description = "not an admin key",
                        content = @Content(schema = @Schema(implementation = OpenAiError.class))),
                @ApiResponse(responseCode = "404", description = "unknown base model",
                        content = @Content(schema = @Schema(implementation = OpenAiError.class)))})
    @PostMapping(path = "/v1/load_lora_adapter", consumes = MediaType.APPLICATION_JSON_VALUE)
    Mono<ResponseEntity<String>> load(@RequestBody JsonNode body, ServerWebExchange exchange) {
        requireAdmin(exchange);
        LoadLoraAdapterRequest r = mapper.bind(body, LoadLoraAdapterRequest.class);
        String name = required("lora_name", r.loraName());
        Path dir = path(required("lora_path", r.loraPath()));
        // Reading an adapter is file I/O: off the event loop.
        return Mono.fromCallable(() -> models.loadAdapter(name, dir, r.baseModelName()))
                .subscribeOn(Schedulers.boundedElastic())
                .map(a -> {
                    log.info("LoRA adapter '{}' loaded from {}", a.name(), a.dir());
                    return success("Success: LoRA adapter '" + name + "' added successfully.");
                });
    }

    @Operation(summary = "Unload a LoRA adapter once its requests in flight finish (vLLM's extra; admin keys only"
            + " where keys are configured)", operationId = "unloadLoraAdapter",
            requestBody = @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, content = @Content(
                    schema = @Schema(implementation = UnloadLoraAdapterRequest.class))),
            responses = {
                @ApiResponse(responseCode = "200", description = "Success: LoRA adapter 'NAME' removed successfully.",
                        content = @Content(mediaType = "text/plain", schema = @Schema(type = "string"))),
                @ApiResponse(responseCode = "400", description = "missing lora_name",
                        content = @Content(schema = @Schema(implementation = OpenAiError.class))),
                @ApiResponse(responseCode = "403", description = "not an admin key",
                        content = @Content(schema = @Schema(implementation = OpenAiError.class))),
                @ApiResponse(responseCode = "404", description = "no adapter of that name",
                        content = @Content(schema = @Schema(implementation = OpenAiError.class))),
                @ApiResponse(responseCode = "409", description = "requests still in flight after"
                        + " paddock.lora.unload-timeout: the adapter takes no new ones and goes when they finish",
                        content = @Content(schema = @Schema(implementation = OpenAiError.class)))})
    @PostMapping(path = "/v1/unload_lora_adapter", consumes = MediaType.APPLICATION_JSON_VALUE)
    Mono<ResponseEntity<String>> unload(@RequestBody JsonNode body, ServerWebExchange exchange) {
        requireAdmin(exchange);
        UnloadLoraAdapterRequest r = mapper.bind(body, UnloadLoraAdapterRequest.class);
        String name = required("lora_name", r.loraName());
        ModelRegistry.Unloading u = models.unloadAdapter(name);
        ServedAdapter a = u.adapter();
        // Waits without a thread; the drain itself is not cancelled by the timeout (or by a client that goes away).
        return Mono.fromFuture(u.drained(), true)
                .timeout(unloadTimeout)
                .onErrorMap(TimeoutException.class, e -> RequestRejectedException.conflict("lora_name",
                        "The lora adapter '" + name + "' takes no new requests and will be removed when its "
                                + a.inFlight() + " in-flight request" + (a.inFlight() == 1 ? "" : "s")
                                + " finish (still running after " + unloadTimeout.toSeconds() + " s).",
                        "lora_adapter_draining"))
                .then(Mono.fromSupplier(() -> {
                    log.info("LoRA adapter '{}' unloaded from {}", name, u.service().model().id());
                    return success("Success: LoRA adapter '" + name + "' removed successfully.");
                }));
    }

    /** vLLM's answer: a plain-text line, whatever the client accepts. */
    private static ResponseEntity<String> success(String line) {
        return ResponseEntity.ok().contentType(MediaType.TEXT_PLAIN).body(line);
    }

    /** Where API keys are configured, only an admin key may change the adapters served. */
    private void requireAdmin(ServerWebExchange exchange) {
        if (keys.isEmpty()) return;
        KeyedCall call = KeyedCall.of(exchange);
        if (call == null || !call.admin()) {
            throw RequestRejectedException.forbidden("Loading and unloading LoRA adapters needs an admin API key"
                    + (call == null ? "" : "; key '" + call.name() + "' is not one") + ".");
        }
    }

    private static String required(String param, String value) {
        if (value == null || value.isBlank()) throw RequestRejectedException.invalid(param, param + " is required");
        return value;
    }

    private static Path path(String value) {
        try {
            return Path.of(value);
        } catch (InvalidPathException e) {
            throw RequestRejectedException.invalid("lora_path", "lora_path is not a valid path: " + e.getMessage());
        }
    }
}
