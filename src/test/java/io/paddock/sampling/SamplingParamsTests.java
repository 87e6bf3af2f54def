package io.paddock.sampling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class SamplingParamsTests {

    @Test
    void builderDefaultsAreOpenAiDefaultsWithExtrasOff() {
        SamplingParams p = SamplingParams.builder().build();
        assertThat(p.temperature()).isEqualTo(1f);
        assertThat(p.topP()).isEqualTo(1f);
        assertThat(p.topK()).isZero();
        assertThat(p.minP()).isZero();
        assertThat(p.repetitionPenalty()).isEqualTo(1f);
        assertThat(p.presencePenalty()).isZero();
        assertThat(p.frequencyPenalty()).isZero();
        assertThat(p.logitBias()).isEmpty();
        assertThat(p.seed()).isNull();
        assertThat(p.logprobs()).isEqualTo(-1);
        assertThat(p.isGreedy()).isFalse();
        assertThat(p.validate(10)).isSameAs(p);
    }

    @Test
    void greedyMeansTemperatureZeroOrTopKOne() {
        assertThat(SamplingParams.greedy().isGreedy()).isTrue();
        assertThat(SamplingParams.greedy().temperature()).isZero();
        assertThat(SamplingParams.builder().topK(1).build().isGreedy()).isTrue();
        assertThat(SamplingParams.builder().topK(2).build().isGreedy()).isFalse();
    }

    @Test
    void logitBiasIsCopiedAndNullBecomesEmpty() {
        var bias = new HashMap<Integer, Float>(Map.of(3, 1f));
        SamplingParams p = SamplingParams.builder().logitBias(bias).build();
        bias.put(4, 2f);
        assertThat(p.logitBias()).containsExactly(Map.entry(3, 1f));
        assertThat(SamplingParams.builder().logitBias(null).build().logitBias()).isEmpty();
    }

    @Test
    void toBuilderRoundTrips() {
        SamplingParams p = SamplingParams.builder().temperature(0.7f).topP(0.9f).topK(40).minP(0.05f)
                .repetitionPenalty(1.15f).presencePenalty(0.5f).frequencyPenalty(-0.5f)
                .logitBias(Map.of(1, -100f)).seed(42L).logprobs(5).build();
        assertThat(p.toBuilder().build()).isEqualTo(p);
    }

    static Stream<Arguments> invalid() {
        return Stream.of(
                Arguments.of("temperature", (UnaryOperator<SamplingParams.Builder>) b -> b.temperature(2.01f)),
                Arguments.of("temperature", (UnaryOperator<SamplingParams.Builder>) b -> b.temperature(-0.1f)),
                Arguments.of("temperature", (UnaryOperator<SamplingParams.Builder>) b -> b.temperature(Float.NaN)),
                Arguments.of("top_p", (UnaryOperator<SamplingParams.Builder>) b -> b.topP(0f)),
                Arguments.of("top_p", (UnaryOperator<SamplingParams.Builder>) b -> b.topP(1.5f)),
                Arguments.of("top_k", (UnaryOperator<SamplingParams.Builder>) b -> b.topK(-2)),
                Arguments.of("min_p", (UnaryOperator<SamplingParams.Builder>) b -> b.minP(1.1f)),
                Arguments.of("min_p", (UnaryOperator<SamplingParams.Builder>) b -> b.minP(-0.1f)),
                Arguments.of("repetition_penalty", (UnaryOperator<SamplingParams.Builder>) b -> b.repetitionPenalty(0f)),
                Arguments.of("repetition_penalty", (UnaryOperator<SamplingParams.Builder>) b -> b.repetitionPenalty(Float.POSITIVE_INFINITY)),
                Arguments.of("presence_penalty", (UnaryOperator<SamplingParams.Builder>) b -> b.presencePenalty(2.5f)),
                Arguments.of("frequency_penalty", (UnaryOperator<SamplingParams.Builder>) b -> b.frequencyPenalty(-2.5f)),
                Arguments.of("logit_bias", (UnaryOperator<SamplingParams.Builder>) b -> b.logitBias(Map.of(10, 1f))),
                Arguments.of("logit_bias", (UnaryOperator<SamplingParams.Builder>) b -> b.logitBias(Map.of(-1, 1f))),
                Arguments.of("logit_bias", (UnaryOperator<SamplingParams.Builder>) b -> b.logitBias(Map.of(3, 100.5f))),
                Arguments.of("logprobs", (UnaryOperator<SamplingParams.Builder>) b -> b.logprobs(21)),
                Arguments.of("logprobs", (UnaryOperator<SamplingParams.Builder>) b -> b.logprobs(-2)));
    }

    @ParameterizedTest(name = "{0} #{index}")
    @MethodSource("invalid")
    void validationNamesTheParameter(String param, UnaryOperator<SamplingParams.Builder> edit) {
        SamplingParams p = edit.apply(SamplingParams.builder()).build();
        assertThatThrownBy(() -> p.validate(10))
                .isInstanceOf(IllegalArgumentException.class)
                .isInstanceOfSatisfying(SamplingParamException.class, e -> assertThat(e.param()).isEqualTo(param))
                .hasMessageStartingWith(param + ":");
    }

    @Test
    void boundaryValuesAreAccepted() {
        SamplingParams.builder().temperature(2f).topP(1f).topK(-1).minP(1f).repetitionPenalty(0.01f)
                .presencePenalty(-2f).frequencyPenalty(2f).logitBias(Map.of(0, -100f, 9, 100f)).logprobs(20)
                .build().validate(10);
        SamplingParams.builder().logprobs(0).build().validate(10);
        SamplingParams.greedy().validate(1);
    }

    @Test
    void nullBiasEntriesAreRejectedNamingTheParameter() {
        var bias = new HashMap<Integer, Float>();
        bias.put(1, null);
        assertThatThrownBy(() -> SamplingParams.builder().logitBias(bias).build())
                .isInstanceOf(SamplingParamException.class).hasMessageStartingWith("logit_bias:");
    }

    @Test
    void samplerValidatesItsParams() {
        assertThatThrownBy(() -> new Sampler(SamplingParams.builder().topP(0f).build(), 10))
                .isInstanceOf(SamplingParamException.class).hasMessageStartingWith("top_p:");
    }
}
