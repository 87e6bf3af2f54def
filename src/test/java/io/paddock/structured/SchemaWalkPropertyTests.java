package io.paddock.structured;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.networknt.schema.Error;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import io.paddock.testing.RandomSchemas;
import io.paddock.tokenizer.Tokenizer;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Random schemas of the supported subset, times random walks over the tokens each mask allows, on the real
 * vocabularies: every finished walk must be JSON that an independent validator (networknt) accepts, and what the
 * constraint read must be what the tokenizer decodes. A walk cut by its token budget must never have met an
 * empty mask.
 */
class SchemaWalkPropertyTests {
    private static final SchemaRegistry VALIDATORS = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);

    @Test
    void walksOnStories260KYieldValidJson() {
        walk(TestTokenizers.stories(), 1, 200, 5, 400);
    }

    @Test
    void walksOnTheLlamaVocabularyYieldValidJson() {
        walk(TestTokenizers.llama(), 2, 60, 4, 300);
    }

    private void walk(Tokenizer t, long seed, int schemas, int walksPerSchema, int budget) {
        SplittableRandom r = new SplittableRandom(seed);
        TokenIndex index = TokenIndex.of(t);
        boolean[] structural = structural(t);
        int finished = 0;
        int walks = 0;
        for (int n = 0; n < schemas; n++) {
            JsonNode schema = RandomSchemas.randomSchema(r);
            Grammar g = Grammars.jsonSchema(schema);
            Schema validator = VALIDATORS.getSchema(schema.toString());
            for (int w = 0; w < walksPerSchema; w++) {
                walks++;
                if (walkOnce(t, index, g, validator, schema, r, structural, budget)) finished++;
            }
        }
        System.out.printf("%s: %d schemas, %d walks, %d finished%n", t.vocabSize(), schemas, walks, finished);
        // Most walks must finish, or the test says little about complete outputs.
        assertThat(finished).as("finished walks of %d", walks).isGreaterThan(walks / 3);
    }

    /** One walk; true when it ended (EOS or terminal state) within the budget and its text validated. */
    private static boolean walkOnce(Tokenizer t, TokenIndex index, Grammar g, Schema validator, JsonNode schema,
                                    SplittableRandom r, boolean[] structural, int budget) {
        String text = walkText(t, index, g, r, structural, budget, new int[0], schema);
        if (text == null) return false;
        assertValid(text, validator, schema);
        return true;
    }

    private static void assertValid(String text, Schema validator, JsonNode schema) {
        try {
            JsonMapper.shared().readTree(text);
        } catch (RuntimeException e) {
            fail("not JSON: " + text + " for " + schema, e);
        }
        List<Error> errors = validator.validate(text, InputFormat.JSON);
        if (!errors.isEmpty()) fail("invalid against " + schema + ": " + text + " -> " + errors);
    }

    /**
     * One random walk that starts with the {@code forced} tokens: its text when it ended (EOS or terminal state)
     * within the budget, else null (a live prefix, checked here).
     */
    private static String walkText(Tokenizer t, TokenIndex index, Grammar g, SplittableRandom r, boolean[] structural,
                                   int budget, int[] forced, Object what) {
        TokenConstraint c = new TokenConstraint(g, index, Set.of(t.eosId()));
        List<Integer> ids = new ArrayList<>();
        float[] logits = new float[t.vocabSize()];
        boolean ended = false;
        for (int step = 0; step < budget && !ended; step++) {
            java.util.Arrays.fill(logits, 0f);
            c.mask(logits);
            int[] allowed = TokenConstraintTests.allowed(logits);
            if (allowed.length == 0) fail("empty mask after " + describe(t, ids, c) + " for " + what);
            if (c.isTerminal()) assertThat(allowed).containsExactly(t.eosId());
            boolean eosOk = logits[t.eosId()] == 0f;
            assertThat(eosOk).isEqualTo(c.isAccepting());
            int token;
            if (step < forced.length) {
                token = forced[step];
            } else if (eosOk && (allowed.length == 1 || r.nextDouble() < 0.3)) {
                token = t.eosId();
                ended = true;
            } else {
                int[] pool = allowed;
                if (r.nextBoolean()) {
                    int[] s = java.util.Arrays.stream(allowed).filter(i -> i != t.eosId() && structural[i]).toArray();
                    if (s.length > 0) pool = s;
                }
                do {
                    token = pool[r.nextInt(pool.length)];
                } while (token == t.eosId());
            }
            assertThat(c.allows(token)).as("token %d after %s", token, describe(t, ids, c)).isTrue();
            c.accept(token);
            ids.add(token);
        }
        byte[] out = c.output();
        String decoded = t.decode(ids.stream().mapToInt(Integer::intValue).toArray());
        String text = strictUtf8(out);
        if (!ended) {
            // Cut by the budget: still a live prefix; its text is what decoding prints when it is whole characters.
            assertThat(c.state()).isNotNull();
            if (text != null) assertThat(decoded).isEqualTo(text);
            return null;
        }
        assertThat(text).as("output is UTF-8").isNotNull();
        assertThat(decoded).as("decode of the walk = bytes the constraint read").isEqualTo(text);
        return text;
    }

    @Test
    void walksDecodeAlikeUnderEveryLeadingSpaceRule() {
        for (Tokenizer.LeadingSpace rule : Tokenizer.LeadingSpace.values()) {
            walk(TestTokenizers.withLeadingSpace(TestTokenizers.stories(), rule), 4, 40, 4, 400);
            walk(TestTokenizers.withLeadingSpace(TestTokenizers.llama(), rule), 5, 10, 3, 300);
        }
    }

    @Test
    void toolCallWalksAreFreeTextOrTheTriggerAndAValidCall() {
        String trigger = "<tool_call>";
        for (Tokenizer t : new Tokenizer[] {TestTokenizers.stories(), TestTokenizers.llama()}) {
            SplittableRandom r = new SplittableRandom(3);
            TokenIndex index = TokenIndex.of(t);
            boolean[] structural = structural(t);
            int[] triggerIds = t.encode(trigger, false, false);
            int calls = 0;
            int free = 0;
            for (int n = 0; n < 30; n++) {
                JsonNode schema = RandomSchemas.randomSchema(r);
                Grammar g = Grammars.freeTextOr(trigger, Grammars.jsonSchema(schema));
                Schema validator = VALIDATORS.getSchema(schema.toString());
                for (int w = 0; w < 4; w++) {
                    int[] forced = r.nextBoolean() ? triggerIds : new int[0];
                    String text = walkText(t, index, g, r, structural, 300, forced, g.describe());
                    if (text == null) continue;
                    String lead = text.replaceFirst("^[ \\t\\r\\n]*", ""); // JSON whitespace only, as the grammar skips it
                    if (lead.startsWith(trigger)) {
                        assertValid(lead.substring(trigger.length()), validator, schema);
                        calls++;
                    } else {
                        free++;
                    }
                }
            }
            assertThat(calls).as("tool calls").isGreaterThan(10);
            assertThat(free).as("free texts").isGreaterThan(10);
        }
    }

    private static boolean[] structural(Tokenizer t) {
        boolean[] structural = new boolean[t.vocabSize()];
        for (int id = 0; id < t.vocabSize(); id++) {
            String s = new String(t.pieceBytes(id), StandardCharsets.UTF_8);
            structural[id] = s.indexOf('"') >= 0 || s.indexOf('}') >= 0 || s.indexOf(']') >= 0 || s.indexOf(',') >= 0;
        }
        return structural;
    }

    private static String describe(Tokenizer t, List<Integer> ids, TokenConstraint c) {
        return ids + " = " + new String(c.output(), StandardCharsets.UTF_8);
    }

    private static String strictUtf8(byte[] b) {
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}
