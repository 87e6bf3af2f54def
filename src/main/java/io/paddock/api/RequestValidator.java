package io.paddock.api;

import io.paddock.config.PaddockProperties;
import io.paddock.engine.GenerationRequest;
import io.paddock.engine.GenerationService;
import io.paddock.engine.LoadedModel;
import io.paddock.model.GenerationConfig;
import io.paddock.sampling.SamplingParamException;
import io.paddock.sampling.SamplingParams;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;

/** Checks a request at the edge and turns it into a {@link GenerationRequest}; every refusal names the parameter. */
@Component
class RequestValidator {
    static final String FINGERPRINT = "fp_paddock_cpu";

    private final GenerationService engine;
    private final PaddockProperties props;

    RequestValidator(GenerationService engine, PaddockProperties props) {
        this.engine = engine;
        this.props = props;
    }

    GenerationRequest completion(CompletionRequest r) {
        if (r == null) throw ApiException.badRequest(null, "request body is missing");
        LoadedModel model = engine.model();
        if (r.model() != null && !r.model().equals(model.id())) {
            throw new ApiException(HttpStatus.NOT_FOUND, "The model '" + r.model() + "' does not exist; this server"
                    + " serves '" + model.id() + "'", "invalid_request_error", "model", "model_not_found");
        }
        if (Boolean.TRUE.equals(r.stream())) {
            throw ApiException.badRequest("stream", "streaming is not supported by this server version yet");
        }
        if (r.n() != null && r.n() != 1) throw ApiException.badRequest("n", "only n=1 is supported yet");
        if (r.bestOf() != null && r.bestOf() != 1) throw ApiException.badRequest("best_of", "only best_of=1 is supported");
        if (Boolean.TRUE.equals(r.echo())) throw ApiException.badRequest("echo", "echo is not supported yet");
        if (r.logprobs() != null) throw ApiException.badRequest("logprobs", "logprobs are not supported yet");
        if (r.suffix() != null) throw ApiException.badRequest("suffix", "suffix is not supported for this model");

        int[] prompt = promptIds(model, r.prompt());
        int maxTokens = r.maxTokens() == null ? props.engine().defaultMaxTokens() : r.maxTokens();
        if (maxTokens < 0) throw ApiException.badRequest("max_tokens", "max_tokens must be >= 0, got " + maxTokens);
        int context = model.contextLength();
        if (prompt.length + maxTokens > context) {
            throw new ApiException(HttpStatus.BAD_REQUEST, "This model's maximum context length is " + context
                    + " tokens. However, you requested " + (prompt.length + maxTokens) + " tokens ("
                    + prompt.length + " in the prompt, " + maxTokens + " for the completion). Please reduce the"
                    + " prompt or max_tokens.", "invalid_request_error", "max_tokens", "context_length_exceeded");
        }
        SamplingParams sampling = sampling(model, r);
        return new GenerationRequest(prompt, maxTokens, sampling, stops(r.stop()), Boolean.TRUE.equals(r.ignoreEos()));
    }

    private static int[] promptIds(LoadedModel model, JsonNode prompt) {
        if (prompt == null || prompt.isNull()) throw ApiException.badRequest("prompt", "prompt is required");
        if (prompt.isString()) return model.encodePrompt(prompt.asString());
        if (prompt.isArray() && prompt.size() == 1 && prompt.get(0).isString()) {
            return model.encodePrompt(prompt.get(0).asString());
        }
        if (prompt.isArray() && !prompt.isEmpty() && allInts(prompt)) {
            int[] ids = new int[prompt.size()];
            int vocab = model.checkpoint().config().vocabSize();
            for (int i = 0; i < ids.length; i++) {
                ids[i] = prompt.get(i).asInt();
                if (ids[i] < 0 || ids[i] >= vocab) {
                    throw ApiException.badRequest("prompt", "token id " + ids[i] + " is outside the vocabulary (0.."
                            + (vocab - 1) + ")");
                }
            }
            return ids;
        }
        throw ApiException.badRequest("prompt", "prompt must be a string, an array with one string, or an array of"
                + " token ids (several prompts per request are not supported yet)");
    }

    private static boolean allInts(JsonNode array) {
        for (JsonNode n : array) if (!n.isIntegralNumber()) return false;
        return true;
    }

    private static List<String> stops(JsonNode stop) {
        if (stop == null || stop.isNull()) return List.of();
        List<String> out = new ArrayList<>();
        if (stop.isString()) {
            out.add(stop.asString());
        } else if (stop.isArray()) {
            for (JsonNode s : stop) {
                if (!s.isString()) throw ApiException.badRequest("stop", "stop must be a string or an array of strings");
                out.add(s.asString());
            }
        } else {
            throw ApiException.badRequest("stop", "stop must be a string or an array of strings");
        }
        if (out.size() > 4) throw ApiException.badRequest("stop", "at most 4 stop sequences are allowed");
        return out;
    }

    private static SamplingParams sampling(LoadedModel model, CompletionRequest r) {
        GenerationConfig gc = model.checkpoint().generationConfig();
        Map<Integer, Float> bias = new HashMap<>();
        if (r.logitBias() != null) {
            for (var e : r.logitBias().entrySet()) {
                try {
                    bias.put(Integer.parseInt(e.getKey().trim()), e.getValue());
                } catch (NumberFormatException ex) {
                    throw ApiException.badRequest("logit_bias", "logit_bias keys must be token ids, got '"
                            + e.getKey() + "'");
                }
            }
        }
        SamplingParams params = SamplingParams.builder()
                .temperature(pick(r.temperature(), gc.temperature(), 1.0f))
                .topP(pick(r.topP(), gc.topP(), 1.0f))
                .topK(r.topK() != null ? r.topK() : gc.topK() != null ? gc.topK() : 0)
                .minP(pick(r.minP(), null, 0f))
                .repetitionPenalty(pick(r.repetitionPenalty(), gc.repetitionPenalty(), 1.0f))
                .presencePenalty(pick(r.presencePenalty(), null, 0f))
                .frequencyPenalty(pick(r.frequencyPenalty(), null, 0f))
                .logitBias(bias)
                .seed(r.seed())
                .build();
        try {
            return params.validate(model.checkpoint().config().vocabSize());
        } catch (SamplingParamException e) {
            throw ApiException.badRequest(e.param(), e.getMessage());
        }
    }

    private static float pick(Float requested, Float modelDefault, float fallback) {
        return requested != null ? requested : modelDefault != null ? modelDefault : fallback;
    }
}
