package io.paddock.engine;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The models one server serves, by id (the {@code model} field of a request); the first is the default. */
public final class ModelRegistry implements AutoCloseable {
    private final Map<String, GenerationService> services = new LinkedHashMap<>();

    public ModelRegistry(List<GenerationService> services) {
        if (services.isEmpty()) throw new IllegalArgumentException("no model to serve");
        for (GenerationService s : services) {
            if (this.services.putIfAbsent(s.model().id(), s) != null) {
                services.forEach(GenerationService::close);
                throw new IllegalArgumentException("two models have the id '" + s.model().id()
                        + "'; give their directories different names");
            }
        }
    }

    /** The service for {@code id}; the default model when {@code id} is null. */
    public Optional<GenerationService> find(String id) {
        if (id == null) return Optional.of(defaultService());
        return Optional.ofNullable(services.get(id));
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
