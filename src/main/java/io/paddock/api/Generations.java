package io.paddock.api;

import io.paddock.engine.EngineListener;
import io.paddock.engine.GenerationRequest;
import io.paddock.engine.GenerationResult;
import io.paddock.engine.GenerationService;
import io.paddock.engine.RequestHandle;
import io.paddock.sampling.Sample;
import io.paddock.security.KeyedCall;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.SignalType;
import reactor.core.publisher.Sinks;

/**
 * Bridges the engine's listeners to Reactor: the choices of one request as one {@link Flux}. Cancelling the
 * subscription (a client that disconnects) cancels every choice in the engine, which frees their KV blocks.
 */
final class Generations {
    private Generations() {}

    /**
     * Submits every choice now, on the caller's thread, so that a refusal (queue full, draining, context too long)
     * is thrown here and answered with its own status before any response (or stream) begins. The events are
     * buffered until the returned {@link Flux} is subscribed; it ends when every choice has finished, or with the
     * first error. Cancelling it, or an error, cancels every choice still running.
     */
    static Flux<ChoiceEvent> run(GenerationService service, List<GenerationRequest> choices) {
        Sinks.Many<ChoiceEvent> sink = Sinks.many().unicast().onBackpressureBuffer();
        AtomicInteger open = new AtomicInteger(choices.size());
        List<EngineListener> listeners = new ArrayList<>();
        for (int i = 0; i < choices.size(); i++) listeners.add(listener(i, sink, open));
        List<RequestHandle> handles = service.streamSamples(choices, listeners);
        // A keyed request's token reservation is settled to prompt + completion tokens when it ends, however it ends.
        long promptTokens = choices.getFirst().promptIds().length;
        AtomicLong completionTokens = new AtomicLong();
        Flux<ChoiceEvent> events = sink.asFlux().doOnNext(e -> completionTokens.addAndGet(e.tokenIds().length));
        return KeyedCall.settleWhenDone(events, () -> promptTokens + completionTokens.get()).doFinally(signal -> {
            if (signal != SignalType.ON_COMPLETE) handles.forEach(RequestHandle::cancel);
        });
    }

    /** One finished choice: its result and the per-token samples (logprobs) it produced. */
    record Outcome(GenerationResult result, List<Sample> samples) {}

    /** Waits for every choice of a non-streaming request; outcomes in choice order. */
    static Mono<List<Outcome>> collect(Flux<ChoiceEvent> events, int n) {
        GenerationResult[] results = new GenerationResult[n];
        List<List<Sample>> samples = new ArrayList<>();
        for (int i = 0; i < n; i++) samples.add(new ArrayList<>());
        return events.doOnNext(e -> {
            if (e.isFinish()) results[e.index()] = e.finished();
            else samples.get(e.index()).addAll(e.samples());
        }).then(Mono.fromSupplier(() -> {
            List<Outcome> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) out.add(new Outcome(results[i], samples.get(i)));
            return out;
        }));
    }

    /** Events of one choice into the request's sink; only the engine thread calls it, so emissions never race. */
    private static EngineListener listener(int index, Sinks.Many<ChoiceEvent> sink, AtomicInteger open) {
        return new EngineListener() {
            @Override
            public void onText(String delta, int[] tokenIds, List<Sample> samples) {
                sink.tryEmitNext(new ChoiceEvent(index, delta, tokenIds, samples, null));
            }

            @Override
            public void onFinish(GenerationResult result) {
                sink.tryEmitNext(new ChoiceEvent(index, "", new int[0], List.of(), result));
                if (open.decrementAndGet() == 0) sink.tryEmitComplete();
            }

            @Override
            public void onError(RuntimeException error) {
                sink.tryEmitError(error);
            }
        };
    }
}
