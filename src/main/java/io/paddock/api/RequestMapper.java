package io.paddock.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.paddock.config.PaddockProperties;
import io.paddock.engine.Admission;
import io.paddock.engine.GenerationRequest;
import io.paddock.engine.GenerationService;
import io.paddock.engine.ModelRegistry;
import io.paddock.engine.RequestRejectedException;
import io.paddock.loading.LoadedModel;
import io.paddock.metrics.PaddockMetrics;
import io.paddock.model.GenerationConfig;
import io.paddock.sampling.SamplingParams;
import io.paddock.security.KeyedCall;
import io.paddock.structured.Grammar;
import java.util.ArrayList;
import java.lang.reflect.RecordComponent;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
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
    static final int MAX_N = 16;

    /** Accepted and ignored: they do not change what is generated. */
    static final Set<String> IGNORED_FIELDS = Set.of("store", "metadata", "service_tier");
    /** Known OpenAI fields paddock cannot honour yet, with the reason given to the client. */
    static final Map<String, String> UNSUPPORTED = Map.of(
            "audio", "audio output is not supported",
            "prediction", "predicted outputs are not supported",
            "web_search_options", "web search is not supported",
            "reasoning_effort", "reasoning effort is not supported by these models");

    /**
     * A request ready for the engine. {@code modelName} is what the client named and what the response echoes: the
     * base model's id, or the LoRA adapter's name (its choices carry the adapter).
     */
    record Prepared(GenerationService service, String modelName, List<GenerationRequest> choices, boolean stream,
            boolean includeUsage, int logprobs) {
        LoadedModel model() { return service.model(); }
        int promptTokens() { return choices.getFirst().promptIds().length; }

        /** Every choice's output constrained to {@code g} (null: free text, this request unchanged). */
        Prepared withGrammar(Grammar g) {
            if (g == null) return this;
            return new Prepared(service, modelName, choices.stream().map(c -> c.withGrammar(g)).toList(), stream,
                    includeUsage, logprobs);
        }
    }

    private static final Map<Class<? extends Record>, Set<String>> FIELDS = new ConcurrentHashMap<>();

    private final ModelRegistry models;
    private final PaddockProperties props;
    private final ObjectMapper json;

    private final PaddockMetrics metrics;

    RequestMapper(ModelRegistry models, PaddockProperties props, ObjectMapper json, PaddockMetrics metrics) {
        this.models = models;
        this.props = props;
        this.json = json;
        this.metrics = metrics;
    }

    /**
     * Runs what a generation endpoint checks before it hands the request to an engine; a refusal there (bad field,
     * unknown model, context overflow, a key's token limit) is counted as {@code finish_reason="rejected"} for the
     * requested model and rethrown. Refusals by the engine itself (queue full, draining) count themselves.
     */
    <T> T counted(JsonNode body, KeyedCall keyed, Supplier<T> checks) {
        try {
            return checks.get();
        } catch (RequestRejectedException e) {
            JsonNode model = body == null ? null : body.get("model");
            String id = model == null || model.isNull() ? models.defaultService().model().id()
                    : model.isString() ? model.asString() : null;
            metrics.rejected(id, keyed == null ? null : keyed.name());
            throw e;
        }
    }

    /**
     * The JSON field names a request record accepts: its components under their wire names. The records are the one
     * description of the wire format (what is bound, and what springdoc documents).
     */
    static Set<String> fieldsOf(Class<? extends Record> type) {
        Set<String> names = new LinkedHashSet<>();
        for (RecordComponent c : type.getRecordComponents()) {
            JsonProperty p = c.getAccessor().getAnnotation(JsonProperty.class);
            names.add(p != null && !p.value().isEmpty() ? p.value() : c.getName());
        }
        return Set.copyOf(names);
    }

    /** Binds a body to a request record after checking every field name is one the record knows. */
    <T extends Record> T bind(JsonNode body, Class<T> type) {
        Set<String> known = FIELDS.computeIfAbsent(type, RequestMapper::fieldsOf);
        if (body == null || !body.isObject()) throw RequestRejectedException.invalid(null, "the request body must be a JSON object");
        for (String name : body.propertyNames()) {
            String why = UNSUPPORTED.get(name);
            if (why != null && !body.get(name).isNull()) throw RequestRejectedException.invalid(name, name + ": " + why);
            if (name.equals("modalities")) {
                if (!body.get(name).toString().equals("[\"text\"]")) throw RequestRejectedException.invalid(name, "modalities: only [\"text\"] is supported");
                continue;
            }
            if (!known.contains(name) && !IGNORED_FIELDS.contains(name)) {
                throw RequestRejectedException.invalid(name, "Unrecognized request argument supplied: " + name);
            }
        }
        try {
            return json.treeToValue(body, type);
        } catch (JacksonException e) {
            String path = e.getPath().isEmpty() ? null : e.getPath().getFirst().getPropertyName();
            throw RequestRejectedException.invalid(path, "Invalid value" + (path != null ? " for '" + path + "'" : "") + ": "
                    + e.getOriginalMessage());
        }
    }

    /** The engine that serves {@code model} (a LoRA adapter's name gives its base); 404 for an unknown one. */
    GenerationService service(String model) {
        return resolve(model).service();
    }

    /** What {@code model} names: a base model (null: the default), or a LoRA adapter on its base; else 404. */
    ModelRegistry.Resolved resolve(String model) {
        return models.resolve(model);
    }

    Prepared completion(CompletionRequest r, KeyedCall keyed) {
        ModelRegistry.Resolved target = resolve(r.model());
        GenerationService service = target.service();
        if (Boolean.TRUE.equals(r.echo())) throw RequestRejectedException.invalid("echo", "echo is not supported");
        if (r.suffix() != null && !r.suffix().isEmpty()) throw RequestRejectedException.invalid("suffix", "suffix is not supported by LLaMA-family models");
        int n = r.n() == null ? 1 : r.n();
        if (r.bestOf() != null && r.bestOf() != n) {
            throw RequestRejectedException.invalid("best_of", "best_of must equal n (server-side best-of ranking is not supported)");
        }
        int[] prompt = promptIds(service.model(), r.prompt());
        // vLLM's extension: json_object / json_schema constrain the completion as they do a chat answer.
        Grammar grammar = OutputConstraints.compile(OutputConstraints.responseFormat(ToolRequests.responseFormat(r.responseFormat())));
        return prepare(target, r, false, prompt, r.maxTokens(), "max_tokens", props.engine().defaultMaxTokens(), List.of(),
                keyed).withGrammar(grammar);
    }

    /**
     * Shared by both endpoints: sampling, stops, n, limits; {@code keyed} is the request's API-key call (null
     * without a key): it names the client and has prompt + max_tokens reserved against its token limit.
     */
    Prepared prepare(ModelRegistry.Resolved target, SamplingFields r, boolean chat, int[] prompt, Integer maxTokensField,
            String maxTokensParam, int defaultMaxTokens /* 0: the rest of the context */, List<String> templateStops,
            KeyedCall keyed) {
        GenerationService service = target.service();
        LoadedModel model = service.model();
        int n = r.n() == null ? 1 : r.n();
        if (n < 1 || n > MAX_N) throw RequestRejectedException.invalid("n", "n must be between 1 and " + MAX_N + ", got " + n);
        int logprobs = r.logprobsCount();
        if (logprobs == -2) throw RequestRejectedException.invalid("top_logprobs", "top_logprobs requires logprobs to be true");
        if (logprobs > SamplingParams.MAX_LOGPROBS) {
            throw RequestRejectedException.invalid(r.logprobsParam(), r.logprobsParam() + " must be between 0 and "
                    + SamplingParams.MAX_LOGPROBS + ", got " + logprobs);
        }
        // The prompt names `messages` for chat (its entry), `prompt` for completions.
        Admission.Entry entry = chat ? Admission.Entry.chat(maxTokensParam) : Admission.Entry.COMPLETION;
        Admission.Admitted admitted = Admission.admit(service.capacity(), prompt, maxTokensField, defaultMaxTokens,
                entry);
        int maxTokens = admitted.maxTokens();
        String client = keyed == null ? GenerationRequest.ANONYMOUS : keyed.name();
        List<String> stops = new ArrayList<>(stops(r.stop()));
        for (String s : templateStops) if (!stops.contains(s)) stops.add(s);
        SamplingParams base = sampling(model, r, logprobs);
        if (n > 1 && base.isGreedy() == false && base.seed() == null) {
            base = base.toBuilder().seed(new SplittableRandom().nextLong()).build();
        }
        List<GenerationRequest> choices = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            // Each choice draws from its own stream: seed, seed+1, ... so a seeded request stays reproducible.
            SamplingParams p = base.seed() == null || i == 0 ? base : base.toBuilder().seed(base.seed() + i).build();
            choices.add(new GenerationRequest(prompt, maxTokens, p, stops, Boolean.TRUE.equals(r.ignoreEos()), client,
                    target.adapter()));
        }
        boolean stream = Boolean.TRUE.equals(r.stream());
        if (!stream && r.streamOptions() != null) {
            throw RequestRejectedException.invalid("stream_options", "stream_options is only allowed when stream is true");
        }
        // Last, once nothing else can refuse the request: Generations.run gives back what goes unused.
        if (keyed != null) keyed.reserveTokens(prompt.length, (long) maxTokens * n);
        return new Prepared(service, target.modelName(), choices, stream, stream && r.streamOptions() != null && r.streamOptions().usage(),
                logprobs);
    }

    static int[] promptIds(LoadedModel model, JsonNode prompt) {
        if (prompt == null || prompt.isNull()) throw RequestRejectedException.invalid("prompt", "prompt is required");
        if (prompt.isString()) return model.encodePrompt(prompt.asString());
        if (prompt.isArray() && prompt.size() == 1 && prompt.get(0).isString()) {
            return model.encodePrompt(prompt.get(0).asString());
        }
        if (prompt.isArray() && !prompt.isEmpty() && allInts(prompt)) {
            int[] ids = new int[prompt.size()];
            int vocab = model.checkpoint().config().vocabSize();
            for (int i = 0; i < ids.length; i++) {
                JsonNode id = prompt.get(i);
                ids[i] = id.canConvertToInt() ? id.asInt() : -1;
                if (ids[i] < 0 || ids[i] >= vocab) {
                    throw RequestRejectedException.invalid("prompt", "token id " + id + " is outside the vocabulary (0.."
                            + (vocab - 1) + ")");
                }
            }
            return ids;
        }
        throw RequestRejectedException.invalid("prompt", "prompt must be a string, an array with one string, or an array of"
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
                if (!s.isString()) throw RequestRejectedException.invalid("stop", "stop must be a string or an array of strings");
                out.add(s.asString());
            }
        } else {
            throw RequestRejectedException.invalid("stop", "stop must be a string or an array of strings");
        }
        if (out.size() > 4) throw RequestRejectedException.invalid("stop", "stop may hold at most 4 sequences, got " + out.size());
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
                    throw RequestRejectedException.invalid("logit_bias", "logit_bias keys must be token ids, got '" + e.getKey() + "'");
                }
            }
        }
        return Admission.sampling(gc, new Admission.RequestedSampling(r.temperature(), r.topP(), r.topK(), r.minP(),
                r.repetitionPenalty(), r.presencePenalty(), r.frequencyPenalty(), bias, r.seed(), logprobs),
                model.checkpoint().config().vocabSize());
    }
}
