package io.paddock.api;

import io.paddock.engine.EngineCore;
import io.paddock.engine.EngineListener;
import io.paddock.engine.GenerationRequest;
import io.paddock.engine.GenerationResult;
import io.paddock.engine.GenerationService;
import io.paddock.sampling.Sample;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;

/**
 * Bridges the engine's listeners to Reactor: the choices of one request as one {@link Flux}. Cancelling the
 * subscription (a client that disconnects) cancels every choice in the engine, which frees their KV blocks.
 */
final class Generations {
    private Generations() {}

    static Flux<ChoiceEvent> run(GenerationService service, List<GenerationRequest> choices) {
        return Flux.create(sink -> {
            AtomicInteger open = new AtomicInteger(choices.size());
            List<EngineListener> listeners = new ArrayList<>();
            for (int i = 0; i < choices.size(); i++) listeners.add(listener(i, sink, open));
            List<EngineCore.Handle> handles;
            try {
                handles = service.streamSamples(choices, listeners);
            } catch (RuntimeException e) {
                sink.error(e);
                return;
            }
            sink.onCancel(() -> handles.forEach(EngineCore.Handle::cancel));
        }, FluxSink.OverflowStrategy.BUFFER);
    }

    private static EngineListener listener(int index, FluxSink<ChoiceEvent> sink, AtomicInteger open) {
        return new EngineListener() {
            @Override
            public void onText(String delta, int[] tokenIds, List<Sample> samples) {
                sink.next(new ChoiceEvent(index, delta, tokenIds, samples, null));
            }

            @Override
            public void onFinish(GenerationResult result) {
                sink.next(new ChoiceEvent(index, "", new int[0], List.of(), result));
                if (open.decrementAndGet() == 0) sink.complete();
            }

            @Override
            public void onError(RuntimeException error) {
                sink.error(error);
            }
        };
    }
}
