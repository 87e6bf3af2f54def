package io.paddock.api;

import io.paddock.engine.GenerationRequest;
import io.paddock.engine.GenerationResult;
import io.paddock.engine.GenerationService;
import io.paddock.engine.LoadedModel;
import io.paddock.sampling.SamplingParams;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Mono;

/** {@code POST /v1/completions} (non-streaming) on the real engine. */
@RestController
class CompletionsController {
    private final GenerationService engine;
    private final RequestValidator validator;

    CompletionsController(GenerationService engine, RequestValidator validator) {
        this.engine = engine;
        this.validator = validator;
    }

    @PostMapping(path = "/v1/completions", consumes = MediaType.APPLICATION_JSON_VALUE,
            produces = MediaType.APPLICATION_JSON_VALUE)
    Mono<CompletionResponse> complete(@RequestBody CompletionRequest body) {
        GenerationRequest request = validator.completion(body);
        LoadedModel model = engine.model();
        return Mono.defer(() -> Mono.fromFuture(engine.submit(request)))
                .onErrorMap(IllegalArgumentException.class, e -> new ApiException(HttpStatus.BAD_REQUEST,
                        e.getMessage(), "invalid_request_error", "prompt", null))
                .map(r -> response(model, r));
    }

    private static CompletionResponse response(LoadedModel model, GenerationResult r) {
        return new CompletionResponse("cmpl-" + UUID.randomUUID().toString().replace("-", ""), "text_completion",
                Instant.now().getEpochSecond(), model.id(), RequestValidator.FINGERPRINT,
                List.of(new CompletionResponse.Choice(0, r.text(), null, r.finishReason().wireName())),
                new CompletionResponse.Usage(r.promptTokens(), r.completionTokens(),
                        r.promptTokens() + r.completionTokens()));
    }
}
