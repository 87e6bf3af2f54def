package io.paddock.bench;

import io.paddock.structured.Grammar;
import io.paddock.structured.Grammars;
import io.paddock.structured.TokenConstraint;
import io.paddock.structured.TokenIndex;
import io.paddock.tokenizer.Tokenizer;
import io.paddock.tokenizer.Tokenizers;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Set;
import tools.jackson.databind.json.JsonMapper;

/**
 * What grammar-constrained decoding costs per step: the time to mask the logits, cold (mask computed by walking
 * the vocabulary trie) and cached (mask looked up per state and applied), for a typical tool-call-like schema.
 * It replays a fixed JSON document token by token (as the tokenizer encodes it) so every step is a realistic
 * state, after a warm-up on other grammars of the same schema. Not wired into the CLI; call {@link #run}.
 */
public final class ConstraintBench {
    /** The schema measured: an object with strings, numbers, an enum, a nested array and an optional field. */
    public static final String SCHEMA = """
            {"type":"object","properties":{
              "name":{"type":"string"},
              "age":{"type":"integer"},
              "email":{"type":"string","format":"email"},
              "role":{"enum":["admin","user","guest"]},
              "scores":{"type":"array","items":{"type":"number"},"maxItems":8},
              "address":{"type":"object","properties":{"street":{"type":"string"},"city":{"type":"string"}},
                         "required":["street","city"],"additionalProperties":false},
              "nickname":{"type":["string","null"]}},
             "required":["name","age","email","role","scores","address"],"additionalProperties":false}""";
    /** The document replayed. */
    public static final String DOCUMENT = "{\"name\": \"Ada Lovelace, Countess of Lovelace\", \"age\": 36, "
            + "\"email\": \"ada@analytical.engine\", \"role\": \"admin\", \"scores\": [98.5, 77, 100], "
            + "\"address\": {\"street\": \"12 St James's Square\", \"city\": \"London\"}, \"nickname\": null}";

    private ConstraintBench() {}

    /** Per-step figures in microseconds (p50, p90, p99, max over every step of every round). */
    public record Result(int steps, double coldMeanUs, double coldP50Us, double coldP90Us, double coldP99Us,
                         double coldMaxUs, double cachedMeanUs, double cachedP50Us, double cachedP99Us,
                         double unmaskedCopyUs, double indexBuildMs, int vocabSize) {}

    /** Runs the bench on the tokenizer of {@code tokenizerDir}, printing to {@code out}. */
    public static Result run(Path tokenizerDir, int rounds, PrintStream out) {
        long t0 = System.nanoTime();
        Tokenizer tok = Tokenizers.load(tokenizerDir);
        TokenIndex index = TokenIndex.of(tok);
        double buildMs = (System.nanoTime() - t0) / 1e6;
        var schema = JsonMapper.shared().readTree(SCHEMA);
        int[] ids = tok.encode(DOCUMENT, false, false);
        Set<Integer> eos = Set.of(tok.eosId());
        float[] logits = new float[tok.vocabSize()];
        float[] scratch = new float[tok.vocabSize()];
        for (int i = 0; i < logits.length; i++) logits[i] = (float) Math.sin(i);
        // Warm up the JIT on separate grammars (separate caches).
        for (int w = 0; w < 5; w++) replay(Grammars.compileSchema(schema), index, ids, eos, logits, scratch, null);
        int perRound = ids.length + 1;
        long[] cold = new long[perRound * rounds];
        long[] cached = new long[perRound * rounds];
        long[] times = new long[perRound];
        for (int r = 0; r < rounds; r++) {
            Grammar g = Grammars.compileSchema(schema); // a fresh grammar: an empty cache
            replay(g, index, ids, eos, logits, scratch, times);
            System.arraycopy(times, 0, cold, r * perRound, perRound);
            replay(g, index, ids, eos, logits, scratch, times);
            System.arraycopy(times, 0, cached, r * perRound, perRound);
        }
        long copy = 0;
        for (int i = 0; i < 1000; i++) {
            long s = System.nanoTime();
            System.arraycopy(logits, 0, scratch, 0, logits.length);
            copy += System.nanoTime() - s;
        }
        Arrays.sort(cold);
        Arrays.sort(cached);
        Result res = new Result(perRound, mean(cold), pct(cold, 0.5), pct(cold, 0.9), pct(cold, 0.99),
                cold[cold.length - 1] / 1e3, mean(cached), pct(cached, 0.5), pct(cached, 0.99), copy / 1000.0 / 1e3,
                buildMs, tok.vocabSize());
        out.printf(Locale.ROOT, "vocab %d, %d steps x %d rounds; index build %.1f ms%n", res.vocabSize(), res.steps(),
                rounds, buildMs);
        out.printf(Locale.ROOT, "mask per step, cold (empty cache): mean %.1f us, p50 %.1f, p90 %.1f, p99 %.1f, max %.1f%n",
                res.coldMeanUs(), res.coldP50Us(), res.coldP90Us(), res.coldP99Us(), res.coldMaxUs());
        out.printf(Locale.ROOT, "mask per step, cached: mean %.1f us, p50 %.1f, p99 %.1f (a plain copy of the logits: %.1f us)%n",
                res.cachedMeanUs(), res.cachedP50Us(), res.cachedP99Us(), res.unmaskedCopyUs());
        return res;
    }

    private static double mean(long[] ns) {
        double sum = 0;
        for (long v : ns) sum += v;
        return sum / ns.length / 1e3;
    }

    private static double pct(long[] sortedNs, double q) {
        return sortedNs[Math.min(sortedNs.length - 1, (int) (q * sortedNs.length))] / 1e3;
    }

    private static void replay(Grammar g, TokenIndex index, int[] ids, Set<Integer> eos, float[] logits,
                               float[] scratch, long[] times) {
        TokenConstraint c = new TokenConstraint(g, index, eos);
        for (int i = 0; i <= ids.length; i++) {
            System.arraycopy(logits, 0, scratch, 0, logits.length);
            long s = System.nanoTime();
            c.mask(scratch);
            long dt = System.nanoTime() - s;
            if (times != null) times[i] = dt;
            int next = i < ids.length ? ids[i] : eos.iterator().next();
            if (scratch[next] == Float.NEGATIVE_INFINITY) {
                throw new IllegalStateException("the document's token " + i + " (" + next + ") was masked");
            }
            c.accept(next);
        }
    }

    /** {@code java ... ConstraintBench <tokenizer dir> [rounds]}. */
    public static void main(String[] args) {
        run(Path.of(args[0]), args.length > 1 ? Integer.parseInt(args[1]) : 5, System.out);
    }
}
