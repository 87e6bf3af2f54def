package io.paddock.engine;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The models one server serves, by id (the {@code model} field of a request); the first is the default. The LoRA
 * adapters each engine serves are models to clients too: one name space holds model ids and adapter names, so a
 * name never means two things (adding an adapter under a model id, or under another base's adapter name, is
 * refused).
 */
public final class ModelRegistry implements AutoCloseable {
    private final Map<String, GenerationService> services = new LinkedHashMap<>();

    /** What a request's {@code model} names: an engine, and the adapter to run on it (null: the bare base). */
    public record Resolved(GenerationService service, String adapter) {
        /** The name clients used: the adapter's, or the base model's id. */
        public String modelName() {
            return adapter == null ? service.model().id() : adapter;
        }
    }

    /** An adapter being unloaded: the base it ran on, its requests in flight, and when they have all finished. */
    public record Unloading(GenerationService service, ServedAdapter adapter, CompletableFuture<Void> drained) {}

    public ModelRegistry(List<GenerationService> services) {
        if (services.isEmpty()) throw new IllegalArgumentException("no model to serve");
        try {
            for (GenerationService s : services) {
                if (this.services.putIfAbsent(s.model().id(), s) != null) {
                    throw new IllegalArgumentException("two models have the id '" + s.model().id()
                            + "'; give their directories different names");
                }
            }
            Map<String, String> adapterBase = new LinkedHashMap<>();
            for (GenerationService s : services) {
                for (ServedAdapter a : s.adapters().list()) {
                    if (this.services.containsKey(a.name())) {
                        throw new IllegalArgumentException("LoRA adapter '" + a.name() + "' has the id of a served"
                                + " model; give it another name");
                    }
                    String other = adapterBase.putIfAbsent(a.name(), s.model().id());
                    if (other != null) {
                        throw new IllegalArgumentException("LoRA adapter name '" + a.name() + "' is served on both '"
                                + other + "' and '" + s.model().id() + "'");
                    }
                }
            }
        } catch (RuntimeException e) {
            services.forEach(GenerationService::close);
            throw e;
        }
    }

    /** The service for {@code id}; the default model when {@code id} is null. Base models only. */
    public Optional<GenerationService> find(String id) {
        if (id == null) return Optional.of(defaultService());
        return Optional.ofNullable(services.get(id));
    }

    /**
     * What {@code model} names: a base model (null: the default), or an adapter with the base it is served on.
     * Throws {@link RequestRejectedException} (404, {@code model_not_found}) for anything else, an adapter being
     * unloaded included.
     */
    public Resolved resolve(String model) {
        return tryResolve(model).orElseThrow(() -> RequestRejectedException.notFound("model",
                "The model '" + model + "' does not exist", "model_not_found"));
    }

    /** As {@link #resolve}, empty for a name nothing is served under. */
    public Optional<Resolved> tryResolve(String model) {
        if (model == null) return Optional.of(new Resolved(defaultService(), null));
        GenerationService base = services.get(model);
        if (base != null) return Optional.of(new Resolved(base, null));
        for (GenerationService s : services.values()) {
            if (s.adapters().find(model).isPresent()) return Optional.of(new Resolved(s, model));
        }
        return Optional.empty();
    }

    /**
     * Reads the adapter in {@code dir} and serves it as {@code name} on {@code baseModel} (null: the default model).
     * Refusals are {@link RequestRejectedException}s: 404 for an unknown base; 400 for a name already taken (by a
     * model or an adapter, one still draining included), adapters off, a rank above the limit, or a directory the
     * reader refuses (its message names the file, tensor and shapes).
     */
    public synchronized ServedAdapter loadAdapter(String name, Path dir, String baseModel) {
        GenerationService base = baseModel == null ? defaultService() : services.get(baseModel);
        if (base == null) {
            throw RequestRejectedException.notFound("base_model_name", "The model '" + baseModel + "' does not exist",
                    "model_not_found");
        }
        if (services.containsKey(name)) {
            throw RequestRejectedException.invalid("lora_name", "The lora adapter name '" + name
                    + "' is the id of a served model; choose another name.");
        }
        for (GenerationService s : services.values()) {
            if (s.adapters().contains(name) && s.adapters().find(name).isEmpty()) {
                throw RequestRejectedException.invalid("lora_name", "The lora adapter '" + name
                        + "' is still being unloaded (requests in flight); load it again once it is gone.");
            }
            if (s.adapters().contains(name)) {
                throw RequestRejectedException.invalid("lora_name",
                        "The lora adapter '" + name + "' has already been loaded.");
            }
        }
        try {
            return base.adapters().add(name, dir);
        } catch (RequestRejectedException e) {
            throw e;
        } catch (RuntimeException e) { // the reader's refusal, a rank too high, adapters off
            throw RequestRejectedException.invalid("lora_path", "Failed to load LoRA adapter '" + name + "': "
                    + e.getMessage());
        }
    }

    /**
     * Stops serving adapter {@code name}: new requests naming it get 404 at once; {@link Unloading#drained} completes
     * when those in flight have finished, and the name is free again. 404 ({@code lora_adapter_not_found}) where no
     * base serves it.
     */
    public synchronized Unloading unloadAdapter(String name) {
        for (GenerationService s : services.values()) {
            Optional<ServedAdapter> a = s.adapters().find(name);
            if (a.isPresent()) return new Unloading(s, a.get(), s.unloadAdapter(name));
        }
        throw RequestRejectedException.notFound("lora_name", "The lora adapter '" + name + "' cannot be found.",
                "lora_adapter_not_found");
    }

    public GenerationService defaultService() {
        return services.values().iterator().next();
    }

    public List<GenerationService> all() {
        return List.copyOf(services.values());
    }

    @Override
    public void close() {
        services.values().forEach(GenerationService::close);
    }
}
