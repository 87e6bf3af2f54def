package io.paddock.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.paddock.engine.EngineConfig;
import io.paddock.engine.GenerationRequest;
import io.paddock.engine.GenerationService;
import io.paddock.engine.RequestRejectedException;
import io.paddock.loading.LoadedModel;
import io.paddock.sampling.SamplingParams;
import io.paddock.testing.SharedModels;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The bridge from engine listeners to Reactor submits at once: a refusal is thrown to the controller (which answers
 * it with its status) instead of surfacing later as an error event inside a stream that already said 200.
 */
class GenerationsTests {
    private static GenerationService service() {
        return new GenerationService(LoadedModel.load("stories260K", "test", SharedModels.require("stories260K"), 1),
                EngineConfig.defaults().withMaxNumSeqs(2));
    }

    private static List<GenerationRequest> choices(int n) {
        GenerationRequest r = new GenerationRequest(new int[] {1, 400, 401}, 5, SamplingParams.greedy(), List.of(), true);
        return Collections.nCopies(n, r);
    }

    @Test
    void aRefusalIsThrownBeforeAnyResponseBegins() {
        try (GenerationService s = service()) {
            s.drain("the server is shutting down");
            assertThatThrownBy(() -> Generations.run(s, choices(1))).isInstanceOfSatisfying(
                    RequestRejectedException.class, e -> assertThat(e.code()).isEqualTo("server_shutting_down"));
        }
    }

    @Test
    void eventsWaitForTheSubscriberAndEveryChoiceFinishes() throws Exception {
        try (GenerationService s = service()) {
            var events = Generations.run(s, choices(2));
            assertThat(s.awaitIdle(Duration.ofSeconds(30))).isTrue(); // generated before anyone listened
            var outcomes = Generations.collect(events, 2).block(Duration.ofSeconds(10));
            assertThat(outcomes).hasSize(2).allSatisfy(o -> assertThat(o.result().completionTokens()).isEqualTo(5));
        }
    }

    @Test
    void cancellingTheFluxCancelsTheChoicesInTheEngine() throws Exception {
        try (GenerationService s = service()) {
            GenerationRequest longOne = new GenerationRequest(new int[] {1, 400}, 400, SamplingParams.greedy(),
                    List.of(), true);
            var events = Generations.run(s, List.of(longOne, longOne));
            events.take(1).blockLast(Duration.ofSeconds(10)); // one event, then cancel
            assertThat(s.awaitIdle(Duration.ofSeconds(10))).isTrue();
            assertThat(s.stats().blocksUsed()).isZero();
            assertThat(s.stats().computedTokens()).as("tokens run before the cancel arrived").isLessThan(400);
        }
    }
}
