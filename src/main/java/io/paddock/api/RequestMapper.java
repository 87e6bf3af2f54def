package io.paddock.api;

import io.paddock.config.PaddockProperties;
import io.paddock.engine.GenerationRequest;
import io.paddock.engine.GenerationService;
import io.paddock.engine.ModelRegistry;
import io.paddock.loading.LoadedModel;
import io.paddock.model.GenerationConfig;
import io.paddock.sampling.SamplingParamException;
import io.paddock.sampling.SamplingParams;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

/**
 * The edge: checks a request body field by field and turns it into engine requests, one per choice. Every refusal
 * is an OpenAI-shaped 4xx naming the parameter; fields paddock cannot honour are refused, never silently ignored
 * (see docs/openai-compatibility.md).
 */
@Component
class RequestMapper {
    static final String FINGERPRINT = "fp_paddock_cpu";
    static final int MAX_N = 16;

    static final Set<String> COMPLETION_FIELDS = Set.of("model", "prompt", "max_tokens", "temperature", "top_p",
            "top_k", "min_p", "repetition_penalty", "presence_penalty", "frequency_penalty", "logit_bias", "seed",
            "stop", "n", "stream", "stream_options", "echo", "logprobs", "best_of", "suffix", "user", "ignore_eos");
    static final Set<String> CHAT_FIELDS = Set.of("model", "messages", "max_tokens", "max_completion_tokens",
            "temperature", "top_p", "top_k", "min_p", "repetition_penalty", "presence_penalty", "frequency_penalty",
            "logit_bias", "seed", "stop", "n", "stream", "stream_options", "logprobs", "top_logprobs", "user",
            "ignore_eos", "chat_template");
    /** Accepted and ignored: they do not change what is generated. */
    static final Set<String> IGNORED_FIELDS = Set.of("store", "metadata", "service_tier", "parallel_tool_calls");
    /** Known OpenAI fields paddock cannot honour yet, with the reason given to the client. */
    static final Map<String, String> UNSUPPORTED = Map.of(
            "tools", "tool calling is not supported",
            "functions", "function calling is not supported",
            "function_call", "function calling is not supported",
            "audio", "audio output is not supported",
            "prediction", "predicted outputs are not supported",
            "web_search_options", "web search is not supported",
            "reasoning_effort", "reasoning effort is not supported by these models");

    /** A request ready for the engine. */
    record Prepared(GenerationService service, List<GenerationRequest> choices, boolean stream, boolean includeUsage,
            int logprobs) {
        LoadedModel model() { return service.model(); }
        int promptTokens() { return choices.getFirst().promptIds().length; }
    }

    private final ModelRegistry models;
    private final PaddockProperties props;
    private final ObjectMapper json;

    RequestMapper(ModelRegistry models, PaddockProperties props, ObjectMapper json) {
        this.models = models;
        this.props = props;
        this.json = json;
    }

    /** Binds a body after checking every field name is one this endpoint knows. */
    <T> T bind(JsonNode body, Class<T> type, Set<String> known) {
        if (body == null || !body.isObject()) throw ApiException.badRequest(null, "the request body must be a JSON object");
        for (String name : body.propertyNames()) {
            String why = UNSUPPORTED.get(name);
            if (why != null && !body.get(name).isNull()) throw ApiException.badRequest(name, name + ": " + why);
            if (name.equals("tool_choice") && !body.get(name).isNull() && !"none".equals(body.get(name).asString(""))) {
                throw ApiException.badRequest(name, "tool_choice: tool calling is not supported");
            }
            if (name.equals("response_format")) {
                JsonNode t = body.get(name).get("type");
                if (t != null && !"text".equals(t.asString())) {
                    throw ApiException.badRequest(name, "response_format: only {\"type\": \"text\"} is supported;"
                            + " JSON mode and JSON schemas are not");
                }
                continue;
            }
            if (name.equals("modalities")) {
                if (!body.get(name).toString().equals("[\"text\"]")) throw ApiException.badRequest(name, "modalities: only [\"text\"] is supported");
                continue;
            }
            if (!known.contains(name) && !IGNORED_FIELDS.contains(name) && !name.equals("tool_choice")) {
                throw ApiException.badRequest(name, "Unrecognized request argument supplied: " + name);
            }
        }
        try {
            return json.treeToValue(body, type);
        } catch (JacksonException e) {
            String path = e.getPath().isEmpty() ? null : e.getPath().getFirst().getPropertyName();
            throw ApiException.badRequest(path, "Invalid value" + (path != null ? " for '" + path + "'" : "") + ": "
                    + e.getOriginalMessage());
        }
    }

    GenerationService service(String model) {
        return models.find(model).orElseThrow(() -> new ApiException(HttpStatus.NOT_FOUND, "The model '" + model
                + "' does not exist", "invalid_request_error", "model", "model_not_found"));
    }

    Prepared completion(CompletionRequest r) {
        GenerationService service = service(r.model());
        if (Boolean.TRUE.equals(r.echo())) throw ApiException.badRequest("echo", "echo is not supported");
        if (r.suffix() != null && !r.suffix().isEmpty()) throw ApiException.badRequest("suffix", "suffix is not supported by LLaMA-family models");
        int n = r.n() == null ? 1 : r.n();
        if (r.bestOf() != null && r.bestOf() != n) {
            throw ApiException.badRequest("best_of", "best_of must equal n (server-side best-of ranking is not supported)");
        }
        int[] prompt = promptIds(service.model(), r.prompt());
        return prepare(service, r, prompt, r.maxTokens(), "max_tokens", props.engine().defaultMaxTokens(), List.of());
    }

    /** Shared by both endpoints: sampling, stops, n, limits. */
    Prepared prepare(GenerationService service, SamplingFields r, int[] prompt, Integer maxTokensField,
            String maxTokensParam, int defaultMaxTokens /* 0: the rest of the context */, List<String> templateStops) {
        LoadedModel model = service.model();
        int n = r.n() == null ? 1 : r.n();
        if (n < 1 || n > MAX_N) throw ApiException.badRequest("n", "n must be between 1 and " + MAX_N + ", got " + n);
        int logprobs = r.logprobsCount();
        if (logprobs == -2) throw ApiException.badRequest("top_logprobs", "top_logprobs requires logprobs to be true");
        if (logprobs > SamplingParams.MAX_LOGPROBS) {
            throw ApiException.badRequest(r.logprobsParam(), r.logprobsParam() + " must be between 0 and "
                    + SamplingParams.MAX_LOGPROBS + ", got " + logprobs);
        }
        int context = model.contextLength();
        if (prompt.length >= context) {
            throw new ApiException(HttpStatus.BAD_REQUEST, "This model's maximum context length is " + context
                    + " tokens. However, your prompt has " + prompt.length + " tokens. Please reduce the length of"
                    + " the prompt.", "invalid_request_error", "messages".equals(maxTokensParam) ? "messages" : "prompt",
                    "context_length_exceeded");
        }
        int maxTokens;
        if (maxTokensField == null) {
            maxTokens = Math.min(defaultMaxTokens > 0 ? defaultMaxTokens : Integer.MAX_VALUE, context - prompt.length);
        } else {
            maxTokens = maxTokensField;
            if (maxTokens < 1) throw ApiException.badRequest(maxTokensParam, maxTokensParam + " must be at least 1, got " + maxTokens);
            if (prompt.length + maxTokens > context) {
                throw new ApiException(HttpStatus.BAD_REQUEST, "This model's maximum context length is " + context
                        + " tokens. However, you requested " + (prompt.length + maxTokens) + " tokens ("
                        + prompt.length + " in the prompt, " + maxTokens + " for the completion). Please reduce the"
                        + " prompt or " + maxTokensParam + ".", "invalid_request_error", maxTokensParam,
                        "context_length_exceeded");
            }
        }
        List<String> stops = new ArrayList<>(stops(r.stop()));
        for (String s : templateStops) if (!stops.contains(s)) stops.add(s);
        SamplingParams base = sampling(model, r, logprobs);
        if (n > 1 && base.isGreedy() == false && base.seed() == null) {
            base = base.toBuilder().seed(new java.util.SplittableRandom().nextLong()).build();
        }
        List<GenerationRequest> choices = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            // Each choice draws from its own stream: seed, seed+1, ... so a seeded request stays reproducible.
            SamplingParams p = base.seed() == null || i == 0 ? base : base.toBuilder().seed(base.seed() + i).build();
            choices.add(new GenerationRequest(prompt, maxTokens, p, stops, Boolean.TRUE.equals(r.ignoreEos())));
        }
        try {
            service.validate(choices.getFirst());
        } catch (IllegalArgumentException e) {
            throw new ApiException(HttpStatus.BAD_REQUEST, e.getMessage(), "invalid_request_error", maxTokensParam,
                    "context_length_exceeded");
        }
        boolean stream = Boolean.TRUE.equals(r.stream());
        if (!stream && r.streamOptions() != null) {
            throw ApiException.badRequest("stream_options", "stream_options is only allowed when stream is true");
        }
        return new Prepared(service, choices, stream, stream && r.streamOptions() != null && r.streamOptions().usage(),
                logprobs);
    }

    static int[] promptIds(LoadedModel model, JsonNode prompt) {
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
                + " token ids (several prompts in one request are not supported; send one request per prompt)");
    }

    private static boolean allInts(JsonNode array) {
        for (JsonNode n : array) if (!n.isIntegralNumber()) return false;
        return true;
    }

    static List<String> stops(JsonNode stop) {
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
        if (out.size() > 4) throw ApiException.badRequest("stop", "stop may hold at most 4 sequences, got " + out.size());
        out.removeIf(String::isEmpty);
        return out;
    }

    private static SamplingParams sampling(LoadedModel model, SamplingFields r, int logprobs) {
        GenerationConfig gc = model.checkpoint().generationConfig();
        Map<Integer, Float> bias = new HashMap<>();
        if (r.logitBias() != null) {
            for (var e : r.logitBias().entrySet()) {
                try {
                    bias.put(Integer.parseInt(e.getKey().trim()), e.getValue());
                } catch (NumberFormatException ex) {
                    throw ApiException.badRequest("logit_bias", "logit_bias keys must be token ids, got '" + e.getKey() + "'");
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
                .logprobs(logprobs)
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
