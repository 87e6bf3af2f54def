package io.paddock.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.paddock.engine.RequestRejectedException.Reason;
import io.paddock.model.GenerationConfig;
import io.paddock.sampling.SamplingParams;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

/** The one "does this request fit?" step: every rejection with its reason, param and code, for every entry. */
class AdmissionTests {
    /** A 512-token context; a pool of 40 blocks of 16 = 640 tokens, so the context decides. */
    private static final Admission.Capacity ROOMY = new Admission.Capacity(512, 40, 16);
    /** The same context over a pool of 24 blocks of 16 = 384 tokens, so the pool decides. */
    private static final Admission.Capacity SMALL_POOL = new Admission.Capacity(512, 24, 16);

    private static int[] prompt(int n) {
        int[] ids = new int[n];
        Arrays.fill(ids, 7);
        return ids;
    }

    private static void rejected(ThrowingCallable call, Reason reason, String param, String code, String message) {
        assertThatThrownBy(call).isInstanceOfSatisfying(RequestRejectedException.class, e -> {
            assertThat(e.reason()).isEqualTo(reason);
            assertThat(e.param()).isEqualTo(param);
            assertThat(e.code()).isEqualTo(code);
        }).hasMessageContaining(message);
    }

    @Test
    void fittingRequestsAreAdmittedWithTheirBudget() {
        assertThat(Admission.admit(ROOMY, prompt(12), 20, 0, Admission.Entry.COMPLETION).maxTokens()).isEqualTo(20);
        // No max_tokens: the configured default, else the rest of the context.
        assertThat(Admission.admit(ROOMY, prompt(12), null, 16, Admission.Entry.COMPLETION).maxTokens()).isEqualTo(16);
        assertThat(Admission.admit(ROOMY, prompt(12), null, 0, Admission.Entry.chat("max_tokens")).maxTokens())
                .isEqualTo(500);
        assertThat(Admission.admit(ROOMY, prompt(500), null, 16, Admission.Entry.COMPLETION).maxTokens()).isEqualTo(12);
        // Exactly the context is allowed.
        assertThat(Admission.admit(ROOMY, prompt(500), 12, 0, Admission.Entry.COMPLETION).maxTokens()).isEqualTo(12);
    }

    @Test
    void chatPromptOverflowNamesMessages() {
        // The bug this replaces: a chat prompt past the context named `prompt`, a field chat requests do not have.
        rejected(() -> Admission.admit(ROOMY, prompt(512), null, 0, Admission.Entry.chat("max_completion_tokens")),
                Reason.CONTEXT_LENGTH_EXCEEDED, "messages", "context_length_exceeded",
                "This model's maximum context length is 512 tokens. However, your prompt has 512 tokens.");
        rejected(() -> Admission.admit(ROOMY, prompt(600), 5, 0, Admission.Entry.chat("max_tokens")),
                Reason.CONTEXT_LENGTH_EXCEEDED, "messages", "context_length_exceeded", "your prompt has 600 tokens");
    }

    @Test
    void completionPromptOverflowNamesPrompt() {
        rejected(() -> Admission.admit(ROOMY, prompt(512), null, 0, Admission.Entry.COMPLETION),
                Reason.CONTEXT_LENGTH_EXCEEDED, "prompt", "context_length_exceeded", "your prompt has 512 tokens");
    }

    @Test
    void budgetOverflowNamesTheBudgetFieldTheClientUsed() {
        rejected(() -> Admission.admit(ROOMY, prompt(12), 100_000, 0, Admission.Entry.COMPLETION),
                Reason.CONTEXT_LENGTH_EXCEEDED, "max_tokens", "context_length_exceeded",
                "However, you requested 100012 tokens (12 in the prompt, 100000 for the completion). Please reduce"
                        + " the prompt or max_tokens.");
        rejected(() -> Admission.admit(ROOMY, prompt(12), 501, 0, Admission.Entry.chat("max_completion_tokens")),
                Reason.CONTEXT_LENGTH_EXCEEDED, "max_completion_tokens", "context_length_exceeded",
                "Please reduce the prompt or max_completion_tokens.");
    }

    @Test
    void aBudgetBelowTheEntrysMinimumIsInvalid() {
        rejected(() -> Admission.admit(ROOMY, prompt(12), 0, 0, Admission.Entry.COMPLETION),
                Reason.INVALID_REQUEST, "max_tokens", null, "max_tokens must be at least 1, got 0");
        rejected(() -> Admission.admit(ROOMY, prompt(12), 0, 0, Admission.Entry.chat("max_completion_tokens")),
                Reason.INVALID_REQUEST, "max_completion_tokens", null, "max_completion_tokens must be at least 1, got 0");
        rejected(() -> Admission.admit(ROOMY, prompt(12), -1, 0, Admission.Entry.CLI),
                Reason.INVALID_REQUEST, "--max-tokens", null, "--max-tokens must be at least 0, got -1");
        // The engine takes max_tokens 0 (prompt only).
        assertThat(Admission.admit(ROOMY, prompt(12), 0, 0, Admission.Entry.ENGINE).maxTokens()).isZero();
    }

    @Test
    void anEmptyPromptIsInvalid() {
        rejected(() -> Admission.admit(ROOMY, new int[0], 5, 0, Admission.Entry.chat("max_tokens")),
                Reason.INVALID_REQUEST, "messages", null, "encodes to no tokens");
        rejected(() -> Admission.admit(ROOMY, new int[0], 5, 0, Admission.Entry.CLI),
                Reason.INVALID_REQUEST, "--prompt", null, "encodes to no tokens");
    }

    @Test
    void theCliCutsItsBudgetToTheContextInsteadOfRefusing() {
        assertThat(Admission.admit(ROOMY, prompt(500), 128, 128, Admission.Entry.CLI).maxTokens()).isEqualTo(12);
        assertThat(Admission.admit(ROOMY, prompt(500), null, 128, Admission.Entry.CLI).maxTokens()).isEqualTo(12);
        assertThat(Admission.admit(SMALL_POOL, prompt(300), 200, 128, Admission.Entry.CLI).maxTokens()).isEqualTo(84);
        rejected(() -> Admission.admit(ROOMY, prompt(512), null, 128, Admission.Entry.CLI),
                Reason.CONTEXT_LENGTH_EXCEEDED, "--prompt", "context_length_exceeded", "your prompt has 512 tokens");
    }

    @Test
    void aRequestNeedingMoreKvBlocksThanThePoolIsRefused() {
        rejected(() -> Admission.admit(SMALL_POOL, prompt(300), 100, 0, Admission.Entry.COMPLETION),
                Reason.CONTEXT_LENGTH_EXCEEDED, "max_tokens", "context_length_exceeded",
                "need 25 KV blocks but the cache holds only 24");
        // The default budget (rest of the context) is refused the same way; a given one that fits is admitted.
        rejected(() -> Admission.admit(SMALL_POOL, prompt(300), null, 0, Admission.Entry.COMPLETION),
                Reason.CONTEXT_LENGTH_EXCEEDED, "max_tokens", "context_length_exceeded", "KV blocks");
        assertThat(Admission.admit(SMALL_POOL, prompt(300), 84, 0, Admission.Entry.COMPLETION).maxTokens()).isEqualTo(84);
    }

    @Test
    void theEngineCheckAppliesTheSameRulesToABuiltRequest() {
        var tooLong = new GenerationRequest(prompt(300), 300, SamplingParams.greedy(), List.of(), false);
        rejected(() -> Admission.check(ROOMY, tooLong, Admission.Entry.ENGINE), Reason.CONTEXT_LENGTH_EXCEEDED,
                "max_tokens", "context_length_exceeded", "maximum context length is 512");
        var fits = new GenerationRequest(prompt(300), 200, SamplingParams.greedy(), List.of(), false);
        Admission.check(ROOMY, fits, Admission.Entry.ENGINE);
    }

    @Test
    void generationConfigDefaultsApplyWhereTheRequestIsSilent() {
        GenerationConfig gc = new GenerationConfig(List.of(), null, 0.6f, 0.9f, 40, 1.1f, null);
        var none = new Admission.RequestedSampling(null, null, null, null, null, null, null, null, null, -1);
        SamplingParams p = Admission.sampling(gc, none, 100);
        assertThat(p.temperature()).isEqualTo(0.6f);
        assertThat(p.topP()).isEqualTo(0.9f);
        assertThat(p.topK()).isEqualTo(40);
        assertThat(p.repetitionPenalty()).isEqualTo(1.1f);
        var given = new Admission.RequestedSampling(0.2f, 0.5f, 3, 0.1f, 1.0f, 0.5f, 0.25f, Map.of(5, 1f), 9L, 2);
        SamplingParams q = Admission.sampling(gc, given, 100);
        assertThat(q).isEqualTo(SamplingParams.builder().temperature(0.2f).topP(0.5f).topK(3).minP(0.1f)
                .repetitionPenalty(1.0f).presencePenalty(0.5f).frequencyPenalty(0.25f).logitBias(Map.of(5, 1f))
                .seed(9L).logprobs(2).build());
        SamplingParams openAi = Admission.sampling(GenerationConfig.empty(), none, 100);
        assertThat(openAi).isEqualTo(SamplingParams.builder().build());
    }

    @Test
    void aBadSamplingValueIsInvalidNamingItsField() {
        var hot = new Admission.RequestedSampling(7f, null, null, null, null, null, null, null, null, -1);
        rejected(() -> Admission.sampling(GenerationConfig.empty(), hot, 100),
                Reason.INVALID_REQUEST, "temperature", null, "temperature");
    }

    @Test
    void aNullLogitBiasValueIsInvalidNotAServerFault() {
        Map<Integer, Float> bias = new HashMap<>();
        bias.put(5, null);
        var nulled = new Admission.RequestedSampling(null, null, null, null, null, null, null, bias, null, -1);
        rejected(() -> Admission.sampling(GenerationConfig.empty(), nulled, 100),
                Reason.INVALID_REQUEST, "logit_bias", null, "logit_bias");
    }
}
