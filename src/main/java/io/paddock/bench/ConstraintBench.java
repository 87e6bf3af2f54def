package io.paddock.bench;

import io.paddock.structured.Grammar;
import io.paddock.structured.Grammars;
import io.paddock.structured.TokenConstraint;
import io.paddock.structured.TokenIndex;
import io.paddock.tokenizer.Tokenizer;
import io.paddock.tokenizer.Tokenizers;
import java.io.PrintStream;
import java.nio.file.Path;
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

    /** Per-step figures in microseconds. */
    public record Result(int steps, double coldMeanUs, double coldMaxUs, double cachedMeanUs, double unmaskedCopyUs,
                         double indexBuildMs, int vocabSize) {}

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
        for (int w = 0; w < 3; w++) replay(Grammars.compileSchema(schema), index, ids, eos, logits, scratch, null);
        long[] cold = new long[ids.length + 1];
        long[] cached = new long[ids.length + 1];
        double coldSum = 0, coldMax = 0, cachedSum = 0;
        for (int r = 0; r < rounds; r++) {
            Grammar g = Grammars.compileSchema(schema); // a fresh grammar: an empty cache
            replay(g, index, ids, eos, logits, scratch, cold);
            replay(g, index, ids, eos, logits, scratch, cached);
            for (int i = 0; i < cold.length; i++) {
                coldSum += cold[i];
                coldMax = Math.max(coldMax, cold[i]);
                cachedSum += cached[i];
            }
        }
        int steps = cold.length * rounds;
        long copy = 0;
        for (int i = 0; i < 1000; i++) {
            long s = System.nanoTime();
            System.arraycopy(logits, 0, scratch, 0, logits.length);
            copy += System.nanoTime() - s;
        }
        Result res = new Result(cold.length, coldSum / steps / 1e3, coldMax / 1e3, cachedSum / steps / 1e3,
                copy / 1000.0 / 1e3, buildMs, tok.vocabSize());
        out.printf(Locale.ROOT, "vocab %d, %d steps; index build %.1f ms%n", res.vocabSize(), res.steps(), buildMs);
        out.printf(Locale.ROOT, "mask per step: cold mean %.1f us (max %.1f us), cached mean %.1f us "
                + "(a plain copy of the logits: %.1f us)%n", res.coldMeanUs(), res.coldMaxUs(), res.cachedMeanUs(),
                res.unmaskedCopyUs());
        return res;
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
