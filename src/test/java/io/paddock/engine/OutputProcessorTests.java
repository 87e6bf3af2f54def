package io.paddock.engine;

import static io.paddock.testing.EngineTesting.concat;
import static org.assertj.core.api.Assertions.assertThat;

import io.paddock.kvcache.KvCacheManager;
import io.paddock.sampling.Sample;
import io.paddock.sampling.SamplingParams;
import io.paddock.testing.SharedModels;
import io.paddock.tokenizer.Tokenizer;
import io.paddock.tokenizer.Tokenizers;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The output side alone: no model runtime. A real scheduler plans the steps and "logits" that force the next token
 * of a script stand in for the forward pass; the real stories260K tokenizer turns the tokens into text.
 */
class OutputProcessorTests {

    private static Tokenizer tokenizer() {
        return Tokenizers.load(SharedModels.require("stories260K"));
    }

    /** What a listener saw. */
    static final class Recorder implements EngineListener {
        final List<String> deltas = new ArrayList<>();
        final List<Integer> ids = new ArrayList<>();
        final List<Sample> samples = new ArrayList<>();
        GenerationResult result;
        RuntimeException error;
        int calls;

        @Override public void onText(String delta, int[] tokenIds, List<Sample> s) {
            assertThat(result).as("no text after the finish").isNull();
            deltas.add(delta);
            for (int id : tokenIds) ids.add(id);
            samples.addAll(s);
            calls++;
        }

        @Override public void onFinish(GenerationResult r) {
            assertThat(result).as("one finish").isNull();
            result = r;
        }

        @Override public void onError(RuntimeException e) { error = e; }

        String streamed() { return String.join("", deltas); }
    }

    /**
     * Runs one request the way the serving loop does (schedule, sample, scheduler update, emit, finish) with the
     * sampled tokens taken from {@code script}; cancels after {@code cancelAfterSteps} steps when >= 0.
     */
    private static Recorder run(Tokenizer tok, GenerationRequest request, int[] script, int cancelAfterSteps) {
        OutputProcessor processor = new OutputProcessor(tok, tok.vocabSize(), Set.of(tok.eosId()), 256);
        Recorder rec = new Recorder();
        OutputProcessor.RequestState st = processor.open(1, request, rec);
        Scheduler scheduler = new Scheduler(SchedulerTests.config(4, 64, 4, 256, false, 64),
                new KvCacheManager(64, 4, false));
        scheduler.add(st.seq());
        int next = 0, steps = 0;
        while (true) {
            SchedulerOutput out = scheduler.schedule();
            assertThat(out.isEmpty()).isFalse();
            int[] sampled = {-1};
            for (ScheduledChunk c : out.chunks()) {
                if (!c.wantLogits()) continue;
                float[] logits = new float[tok.vocabSize()];
                logits[script[next++]] = 10f;
                sampled[0] = processor.sample(st, logits);
            }
            List<Sequence> finished = scheduler.update(out, s -> sampled[0]);
            if (sampled[0] >= 0 && processor.emit(st)) { // a stop string
                scheduler.finish(st.seq(), FinishReason.STOP);
                processor.finish(st, FinishReason.STOP);
                break;
            }
            if (!finished.isEmpty()) {
                processor.finish(st, st.seq().finishReason());
                break;
            }
            if (++steps == cancelAfterSteps) {
                scheduler.finish(st.seq(), FinishReason.CANCELLED);
                processor.finish(st, FinishReason.CANCELLED);
                break;
            }
        }
        assertThat(rec.error).isNull();
        assertThat(rec.result).isNotNull();
        return rec;
    }

    private static GenerationRequest request(Tokenizer tok, int maxTokens, List<String> stop, boolean ignoreEos,
            SamplingParams sampling) {
        return new GenerationRequest(tok.encode("Once", true, false), maxTokens, sampling, stop, ignoreEos);
    }

    private static int[] ids(Tokenizer tok, String text) {
        return tok.encode(text, false, false);
    }

    @Test
    void streamsTheDetokenizedTextOneCallPerAcceptedToken() {
        Tokenizer tok = tokenizer();
        int[] script = ids(tok, " upon a time, Lily saw a big dog.");
        Recorder r = run(tok, request(tok, script.length, List.of(), false, SamplingParams.greedy()), script, -1);
        assertThat(r.result.finishReason()).isEqualTo(FinishReason.LENGTH);
        assertThat(r.streamed()).isEqualTo(tok.decode(script)).isEqualTo(r.result.text());
        assertThat(r.result.tokens()).containsExactly(script);
        assertThat(r.ids).containsExactly(Arrays.stream(script).boxed().toArray(Integer[]::new));
        assertThat(r.calls).isEqualTo(script.length);
        assertThat(r.result.promptTokens()).isEqualTo(request(tok, 1, List.of(), false, SamplingParams.greedy())
                .promptIds().length);
    }

    @Test
    void stopStringAcrossTokenBoundariesEndsTheTextBeforeItAndNeverLeaksIt() {
        Tokenizer tok = tokenizer();
        int[] script = ids(tok, " upon a time, Lily said hello to the dog.");
        String full = tok.decode(script);
        String stop = "y sa"; // the end of " Lily" and the start of " said": two tokens at least
        int at = full.indexOf(stop);
        assertThat(at).isPositive();
        Recorder r = run(tok, request(tok, script.length, List.of(stop), false, SamplingParams.greedy()), script, -1);
        assertThat(r.result.finishReason()).isEqualTo(FinishReason.STOP);
        assertThat(r.result.text()).isEqualTo(full.substring(0, at));
        assertThat(r.streamed()).isEqualTo(r.result.text());
        for (String d : r.deltas) assertThat(d).doesNotContain("sa");
        // Tokens up to and including the one that completed the stop string; none after it.
        assertThat(r.result.tokens().length).isLessThan(script.length);
        assertThat(tok.decode(r.result.tokens())).contains(stop);
        assertThat(r.ids).hasSize(r.result.tokens().length);
    }

    @Test
    void textThatMayStartAStopStringIsHeldBackUntilItCannot() {
        Tokenizer tok = tokenizer();
        int[] script = ids(tok, " upon a time, Lily saw a big dog.");
        String full = tok.decode(script);
        // "time" starts the stop string "time!" but the text goes on with ",": it must come out in the end.
        Recorder r = run(tok, request(tok, script.length, List.of("time!"), false, SamplingParams.greedy()), script,
                -1);
        assertThat(r.result.finishReason()).isEqualTo(FinishReason.LENGTH);
        assertThat(r.streamed()).isEqualTo(full).isEqualTo(r.result.text());
        StringBuilder soFar = new StringBuilder();
        for (String d : r.deltas) {
            soFar.append(d);
            assertThat(soFar.toString()).doesNotEndWith("time"); // held back while "time!" was still possible
        }
    }

    @Test
    void maxTokensEndsTheRequestWithLengthAndFlushesTheText() {
        Tokenizer tok = tokenizer();
        int[] script = ids(tok, " upon a time, Lily saw a big dog.");
        Recorder r = run(tok, request(tok, 3, List.of(), false, SamplingParams.greedy()), script, -1);
        assertThat(r.result.finishReason()).isEqualTo(FinishReason.LENGTH);
        assertThat(r.result.tokens()).containsExactly(Arrays.copyOf(script, 3));
        assertThat(r.streamed()).isEqualTo(tok.decode(Arrays.copyOf(script, 3))).isEqualTo(r.result.text());
    }

    @Test
    void eosEndsTheRequestWithStopAndIsNotPartOfTheOutput() {
        Tokenizer tok = tokenizer();
        int[] before = ids(tok, " upon a time");
        int[] script = concat(before, new int[] {tok.eosId()}, ids(tok, " Lily"));
        Recorder r = run(tok, request(tok, 50, List.of(), false, SamplingParams.greedy()), script, -1);
        assertThat(r.result.finishReason()).isEqualTo(FinishReason.STOP);
        assertThat(r.result.tokens()).containsExactly(before);
        assertThat(r.streamed()).isEqualTo(tok.decode(before)).isEqualTo(r.result.text());
    }

    @Test
    void ignoreEosGoesOnPastEos() {
        Tokenizer tok = tokenizer();
        int[] before = ids(tok, " upon a time");
        int[] after = ids(tok, " Lily");
        int[] script = concat(before, new int[] {tok.eosId()}, after);
        Recorder r = run(tok, request(tok, script.length, List.of(), true, SamplingParams.greedy()), script, -1);
        assertThat(r.result.finishReason()).isEqualTo(FinishReason.LENGTH);
        assertThat(r.result.tokens()).containsExactly(script);
        assertThat(r.result.text()).startsWith(tok.decode(before)).endsWith(tok.decode(after).strip());
        assertThat(r.streamed()).isEqualTo(r.result.text());
    }

    @Test
    void cancellingMidCharacterShowsNoBrokenTextAndFlushesNothing() {
        Tokenizer tok = tokenizer();
        int[] script = ids(tok, " cat \u65e5 dog");
        String full = tok.decode(script);
        // This small vocabulary has no "日": it comes as the byte tokens <0xE6> <0x97> <0xA5>.
        int firstByte = -1;
        for (int i = 0; i < script.length && firstByte < 0; i++) if (tok.piece(script[i]).equals("<0xE6>")) firstByte = i;
        assertThat(firstByte).isPositive();
        // Cancelled after two of the three bytes: `firstByte + 2` tokens accepted, one per step.
        Recorder r = run(tok, request(tok, script.length, List.of(), false, SamplingParams.greedy()), script,
                firstByte + 2);
        assertThat(r.result.finishReason()).isEqualTo(FinishReason.CANCELLED);
        assertThat(r.result.tokens()).containsExactly(Arrays.copyOf(script, firstByte + 2));
        assertThat(r.streamed()).isEqualTo(r.result.text()).isEqualTo(tok.decode(Arrays.copyOf(script, firstByte)));
        assertThat(r.result.text()).doesNotContain("\uFFFD");
        assertThat(full).startsWith(r.result.text()).contains("\u65e5");
    }

    @Test
    void cancellingHoldsBackTextThatMayStillBeAStopString() {
        Tokenizer tok = tokenizer();
        int[] script = ids(tok, " upon a time, Lily saw a big dog.");
        int[] upToTime = ids(tok, " upon a time");
        // Cancelled right after "time": held back for the stop string "time!", and a cancel flushes nothing.
        Recorder r = run(tok, request(tok, script.length, List.of("time!"), false, SamplingParams.greedy()), script,
                upToTime.length);
        assertThat(r.result.finishReason()).isEqualTo(FinishReason.CANCELLED);
        assertThat(r.result.tokens()).containsExactly(upToTime);
        String decoded = tok.decode(upToTime);
        assertThat(r.streamed()).isEqualTo(decoded.substring(0, decoded.length() - "time".length()));
        assertThat(r.result.text()).isEqualTo(decoded); // the result's text has what was accepted, held back or not
    }

    @Test
    void logprobSamplesComeWithTheirTokens() {
        Tokenizer tok = tokenizer();
        int[] script = ids(tok, " upon a time");
        SamplingParams withLogprobs = SamplingParams.builder().temperature(0f).logprobs(2).build();
        Recorder r = run(tok, request(tok, script.length, List.of(), false, withLogprobs), script, -1);
        assertThat(r.samples).hasSize(script.length);
        for (int i = 0; i < script.length; i++) {
            assertThat(r.samples.get(i).token()).isEqualTo(script[i]);
            assertThat(r.samples.get(i).topIds()).hasSize(2).contains(script[i]);
        }
        Recorder plain = run(tok, request(tok, script.length, List.of(), false, SamplingParams.greedy()), script, -1);
        assertThat(plain.samples).hasSize(script.length).allSatisfy(s -> assertThat(s.topIds()).isNullOrEmpty());
    }
}
