package io.paddock.structured;

import static io.paddock.structured.GrammarTesting.json;
import static io.paddock.structured.GrammarTesting.matches;
import static io.paddock.structured.GrammarTesting.rejectsAt;
import static io.paddock.structured.GrammarTesting.run;
import static io.paddock.structured.GrammarTesting.schema;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** Each supported JSON Schema keyword, and the errors for what is not supported. */
class SchemaGrammarTests {
    private static final String PERSON = """
            {"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"},"c":{"type":"boolean"}},
             "required":["a","c"],"additionalProperties":false}""";

    @Test
    void requiredPropertiesMustAppearInDeclarationOrderAndOptionalOnesMayBeLeftOut() {
        Grammar g = schema(PERSON);
        assertThat(matches(g, "{\"a\":\"x\",\"c\":true}")).isTrue();
        assertThat(matches(g, "{ \"a\" : \"x\" , \"b\" : -7 , \"c\" : false }")).isTrue();
        assertThat(rejectsAt(g, "{\"c\":true,\"a\":\"x\"}")).isEqualTo(2);   // out of order
        assertThat(rejectsAt(g, "{\"a\":\"x\"}")).isEqualTo(8);              // c is required
        assertThat(rejectsAt(g, "{}")).isEqualTo(1);
        assertThat(rejectsAt(g, "{\"a\":\"x\",\"c\":true,\"d\":1}")).isEqualTo(17); // no extra keys
        assertThat(rejectsAt(g, "{\"a\":1")).isEqualTo(5);                  // a is a string
        assertThat(rejectsAt(g, "{\"a\":\"x\",\"b\":1.5")).isEqualTo(14);   // b is an integer
    }

    @Test
    void allOptionalPropertiesAllowTheEmptyObjectAndAnySubsetInOrder() {
        Grammar g = schema("""
                {"type":"object","properties":{"x":{"type":"null"},"y":{"type":"null"},"z":{"type":"null"}},
                 "additionalProperties":false}""");
        for (String ok : new String[] {"{}", "{ }", "{\"y\":null}", "{\"x\":null,\"z\":null}",
                "{\"x\":null,\"y\":null,\"z\":null}"}) {
            assertThat(matches(g, ok)).as(ok).isTrue();
        }
        assertThat(rejectsAt(g, "{\"z\":null,\"x\"")).isEqualTo(9);
        assertThat(rejectsAt(g, "{,")).isEqualTo(1);
        assertThat(rejectsAt(g, "{\"y\":null,}")).isEqualTo(10);
    }

    @Test
    void additionalPropertiesFollowTheDeclaredOnesWithOtherKeys() {
        Grammar open = schema("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"}},\"required\":[\"a\"]}");
        assertThat(matches(open, "{\"a\":1,\"zz\":[1,{\"q\":null}],\"b\":\"s\"}")).isTrue();
        assertThat(rejectsAt(open, "{\"a\":1,\"a\":2}")).isEqualTo(9);     // a declared key again
        assertThat(rejectsAt(open, "{\"a\":1,\"\\u0061\":2}")).isEqualTo(14); // the same, escaped
        assertThat(matches(open, "{\"a\":1,\"ab\":2,\"\":3}")).isTrue();
        Grammar typed = schema("{\"type\":\"object\",\"additionalProperties\":{\"type\":\"integer\"}}");
        assertThat(matches(typed, "{\"x\":1,\"y\":2}")).isTrue();
        assertThat(rejectsAt(typed, "{\"x\":\"s\"}")).isEqualTo(5);
        Grammar closed = schema("{\"type\":\"object\",\"additionalProperties\":false}");
        assertThat(matches(closed, "{}")).isTrue();
        assertThat(rejectsAt(closed, "{\"")).isEqualTo(1);
    }

    @Test
    void enumAndConstAreExactLiterals() {
        Grammar g = schema("{\"enum\":[\"a\\\"b\",1,null,{\"k\":[true]},\"é\"]}");
        for (String ok : new String[] {"\"a\\\"b\"", "1", "null", "{\"k\":[true]}", "\"é\""}) {
            assertThat(matches(g, ok)).as(ok).isTrue();
        }
        assertThat(rejectsAt(g, "\"b\"")).isEqualTo(1);
        assertThat(rejectsAt(g, "2")).isEqualTo(0);
        assertThat(run(g, "1").isTerminal()).isTrue();
        assertThat(matches(schema("{\"type\":\"string\",\"const\":\"x\",\"title\":\"Kind\"}"), "\"x\"")).isTrue();
        Grammar c = schema("{\"const\":\"fixed\"}");
        assertThat(matches(c, "\"fixed\"")).isTrue();
        assertThat(rejectsAt(c, "\"fix\"")).isEqualTo(4);
        // enum values of another type than "type" allows are left out
        Grammar typed = schema("{\"type\":\"integer\",\"enum\":[1,\"1\",2.0,2.5]}");
        assertThat(matches(typed, "1")).isTrue();
        assertThat(matches(typed, "2.0")).isTrue();
        assertThat(rejectsAt(typed, "\"")).isEqualTo(0);
        assertThat(rejectsAt(typed, "2.5")).isEqualTo(2);
    }

    @Test
    void anyOfFollowsEveryBranchUntilTheBytesTellThemApart() {
        Grammar g = schema("""
                {"anyOf":[
                  {"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"}},"required":["a","b"],"additionalProperties":false},
                  {"type":"object","properties":{"a":{"type":"string"},"c":{"type":"boolean"}},"required":["a","c"],"additionalProperties":false}]}""");
        assertThat(matches(g, "{\"a\":\"x\",\"b\":1}")).isTrue();
        assertThat(matches(g, "{\"a\":\"x\",\"c\":true}")).isTrue();
        assertThat(rejectsAt(g, "{\"a\":\"x\",\"b\":true}")).isEqualTo(13);
        assertThat(rejectsAt(g, "{\"a\":\"x\",\"d\"")).isEqualTo(10);
        // In the shared prefix both branches are alive.
        assertThat(((NfaState) run(g, "{\"a\":\"x")).width()).isEqualTo(2);
        Grammar one = schema("{\"oneOf\":[{\"type\":\"string\"},{\"type\":\"integer\"}]}");
        assertThat(matches(one, "\"s\"")).isTrue();
        assertThat(matches(one, "5")).isTrue();
        assertThat(rejectsAt(one, "true")).isEqualTo(0);
    }

    @Test
    void typeArraysAllowEachType() {
        Grammar g = schema("{\"type\":[\"string\",\"null\"]}");
        assertThat(matches(g, "\"s\"")).isTrue();
        assertThat(matches(g, "null")).isTrue();
        assertThat(rejectsAt(g, "1")).isEqualTo(0);
        Grammar b = schema("{\"type\":\"boolean\"}");
        assertThat(matches(b, "true")).isTrue();
        assertThat(matches(b, "false")).isTrue();
        assertThat(rejectsAt(b, "null")).isEqualTo(0);
    }

    @Test
    void arraysCountTheirItems() {
        Grammar g = schema("{\"type\":\"array\",\"items\":{\"type\":\"integer\"},\"minItems\":2,\"maxItems\":3}");
        assertThat(matches(g, "[1,2]")).isTrue();
        assertThat(matches(g, "[ 1 , 2 , 3 ]")).isTrue();
        assertThat(rejectsAt(g, "[1]")).isEqualTo(2);
        assertThat(rejectsAt(g, "[]")).isEqualTo(1);
        assertThat(rejectsAt(g, "[1,2,3,4]")).isEqualTo(6);
        assertThat(rejectsAt(g, "[1,\"a\"]")).isEqualTo(3);
        Grammar none = schema("{\"type\":\"array\",\"maxItems\":0}");
        assertThat(matches(none, "[]")).isTrue();
        assertThat(rejectsAt(none, "[1")).isEqualTo(1);
        Grammar anyItems = schema("{\"type\":\"array\"}");
        assertThat(matches(anyItems, "[1,\"a\",[],{}]")).isTrue();
        // Unbounded arrays: every item after the minimum is the same state (so masks are cached).
        Grammar strings = schema("{\"type\":\"array\",\"items\":{\"type\":\"string\"}}");
        assertThat(run(strings, "[\"a\",\"b")).isEqualTo(run(strings, "[\"a\",\"b\",\"c\",\"d"));
    }

    @Test
    void stringLengthsCountCodePoints() {
        Grammar g = schema("{\"type\":\"string\",\"minLength\":2,\"maxLength\":3}");
        assertThat(matches(g, "\"éé\"")).isTrue();
        assertThat(matches(g, "\"😀\\n\\u00e9\"")).isTrue();
        assertThat(matches(g, "\"\\ud83d\\ude00x\"")).isTrue(); // a surrogate pair is one code point
        assertThat(rejectsAt(g, "\"a\"")).isEqualTo(2);
        assertThat(rejectsAt(g, "\"abcd\"")).isEqualTo(4);
        assertThat(rejectsAt(g, "\"abc\\n")).isEqualTo(4);
        assertThat(run(g, "\"abc").isAccepting()).isFalse();
    }

    @Test
    void refsResolveDefsDefinitionsAndTheRootRecursively() {
        Grammar tree = schema("""
                {"$defs":{"node":{"type":"object","properties":{"v":{"type":"integer"},
                   "kids":{"type":"array","items":{"$ref":"#/$defs/node"}}},"required":["v"],"additionalProperties":false}},
                 "$ref":"#/$defs/node"}""");
        assertThat(matches(tree, "{\"v\":1,\"kids\":[{\"v\":2},{\"v\":3,\"kids\":[{\"v\":4,\"kids\":[]}]}]}")).isTrue();
        assertThat(rejectsAt(tree, "{\"v\":1,\"kids\":[{\"kids\"")).isEqualTo(17);
        Grammar list = schema("""
                {"type":"object","properties":{"head":{"type":"string"},"tail":{"anyOf":[{"$ref":"#"},{"type":"null"}]}},
                 "required":["head","tail"],"additionalProperties":false}""");
        assertThat(matches(list, "{\"head\":\"a\",\"tail\":{\"head\":\"b\",\"tail\":null}}")).isTrue();
        Grammar defs = schema("{\"definitions\":{\"s\":{\"type\":\"string\"}},\"type\":\"array\",\"items\":{\"$ref\":\"#/definitions/s\"}}");
        assertThat(matches(defs, "[\"a\",\"b\"]")).isTrue();
        assertThat(rejectsAt(defs, "[1]")).isEqualTo(1);
    }

    @Test
    void emptyAndTrueSchemasAllowAnyValueAndAnnotationsAreIgnored() {
        for (String s : new String[] {"{}", "true", "{\"title\":\"t\",\"description\":\"d\",\"default\":1,\"examples\":[1],"
                + "\"$schema\":\"https://json-schema.org/draft/2020-12/schema\",\"$id\":\"x\",\"$comment\":\"c\"}"}) {
            Grammar g = Grammars.jsonSchema(json(s));
            assertThat(matches(g, "[1,{\"a\":null},\"s\"]")).as(s).isTrue();
            assertThat(matches(g, "3.5")).as(s).isTrue();
        }
        assertThat(Grammars.jsonSchema(json("{\"title\":\"person\",\"type\":\"object\"}")).describe())
                .isEqualTo("json_schema(person)");
    }

    @Test
    void formatsAreAcceptedAsPlainStringsExceptUuidWhichIsEnforced() {
        Grammar g = schema("{\"type\":\"string\",\"format\":\"date-time\"}");
        assertThat(matches(g, "\"2024-01-01T00:00:00Z\"")).isTrue();
        assertThat(matches(g, "\"whenever\"")).isTrue();
        Grammar uuid = schema("{\"type\":\"string\",\"format\":\"uuid\"}");
        assertThat(matches(uuid, "\"123e4567-E89B-12d3-a456-426614174000\"")).isTrue();
        assertThat(run(uuid, "\"123e4567-E89B-12d3-a456-426614174000\"").isTerminal()).isTrue();
        assertThat(rejectsAt(uuid, "\"123e4567-e89b-12d3-a456-42661417400\"")).isEqualTo(36);
        assertThat(rejectsAt(uuid, "\"123e4567e")).isEqualTo(9);
        assertThat(rejectsAt(uuid, "\"123g")).isEqualTo(4);
        assertError("{\"type\":\"string\",\"format\":\"uuid\",\"maxLength\":10}", "invalid 'format' at #", "format", "#");
    }

    @Test
    void nonStrictSchemasAcceptTheAssertionsGenerationCannotEnforceAndStillFixTheShape() {
        String text = "{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":9},"
                + "\"s\":{\"type\":\"string\",\"pattern\":\"^a\"},\"l\":{\"type\":\"array\",\"uniqueItems\":true}},"
                + "\"required\":[\"n\",\"s\",\"l\"],\"additionalProperties\":false,\"minProperties\":1}";
        JsonNode node = tools.jackson.databind.json.JsonMapper.shared().readTree(text);
        Grammar lenient = Grammars.jsonSchema(node, false);
        assertThat(matches(lenient, "{\"n\": 42, \"s\": \"b\", \"l\": [1, 1]}")).isTrue(); // bounds not enforced
        assertThat(rejectsAt(lenient, "{\"n\": \"x\"")).isEqualTo(6);                         // types still are
        assertThatThrownBy(() -> Grammars.jsonSchema(node, true)).isInstanceOf(SchemaException.class)
                .hasMessageContaining("unsupported keyword");
        assertThatThrownBy(() -> Grammars.jsonSchema(
                tools.jackson.databind.json.JsonMapper.shared().readTree("{\"allOf\":[]}"), false))
                .hasMessageContaining("unsupported keyword 'allOf' at #");
    }

    @Test
    void unsupportedKeywordsNameTheKeywordAndItsPointer() {
        assertError("{\"type\":\"object\",\"properties\":{\"tags\":{\"type\":\"object\",\"patternProperties\":{}}}}",
                "unsupported keyword 'patternProperties' at #/properties/tags", "patternProperties", "#/properties/tags");
        assertError("{\"type\":\"object\",\"properties\":{\"a/b\":{\"type\":\"string\",\"pattern\":\"x\"}}}",
                "unsupported keyword 'pattern' at #/properties/a~1b", "pattern", "#/properties/a~1b");
        assertError("{\"type\":\"array\",\"items\":{\"type\":\"number\",\"minimum\":0}}",
                "unsupported keyword 'minimum' at #/items", "minimum", "#/items");
        assertError("{\"allOf\":[]}", "unsupported keyword 'allOf' at #", "allOf", "#");
        assertError("{\"$ref\":\"#/$defs/missing\"}", "unresolvable $ref '#/$defs/missing' at #", "$ref", "#");
        assertError("{\"$ref\":\"https://example.com/s.json\"}", "unsupported $ref", "$ref", "#");
        assertError("{\"anyOf\":[{\"$ref\":\"#\"},{\"type\":\"null\"}]}", "circular $ref '#' at #/anyOf/0", "$ref", "#/anyOf/0");
        assertError("{\"$defs\":{\"a\":{\"$ref\":\"#/$defs/b\"},\"b\":{\"anyOf\":[{\"$ref\":\"#/$defs/a\"}]}},\"$ref\":\"#/$defs/a\"}",
                "circular $ref '#/$defs/a'", "$ref", "#/$defs/b/anyOf/0");
        assertError("{\"type\":\"string\",\"anyOf\":[{}]}", "unsupported keyword 'type' next to 'anyOf' at #", "type", "#");
        assertError("{\"type\":\"object\",\"properties\":{},\"required\":[\"x\"]}",
                "required property 'x' at # is not declared", "required", "#");
        assertError("{\"type\":\"string\",\"format\":\"regex\"}", "unsupported format \"regex\" at #", "format", "#");
        assertError("{\"type\":\"array\",\"items\":[{}]}", "unsupported keyword 'items' with an array", "items", "#");
        assertError("{\"type\":\"string\",\"minLength\":-1}", "invalid 'minLength' at #: must be a non-negative integer",
                "minLength", "#");
        assertError("{\"type\":\"string\",\"minLength\":3,\"maxLength\":2}", "invalid 'maxLength' at #", "maxLength", "#");
        assertError("{\"type\":\"strin\"}", "unknown type 'strin'", "type", "#");
        assertError("{\"type\":\"object\",\"properties\":{\"n\":false}}", "schema false at #/properties/n", "false",
                "#/properties/n");
        assertError("{\"enum\":[]}", "invalid 'enum' at #", "enum", "#");
        assertError("{\"type\":\"integer\",\"const\":\"x\"}", "invalid 'const' at #: has no value of type integer",
                "const", "#");
        assertError("{\"enum\":[\"a\"],\"minLength\":3}", "unsupported keyword 'minLength' next to 'enum' at #",
                "minLength", "#");
    }

    private static void assertError(String schema, String message, String keyword, String pointer) {
        assertThatThrownBy(() -> Grammars.jsonSchema(json(schema)))
                .isInstanceOf(SchemaException.class)
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(message)
                .satisfies(e -> {
                    assertThat(((SchemaException) e).keyword()).isEqualTo(keyword);
                    assertThat(((SchemaException) e).pointer()).isEqualTo(pointer);
                });
    }
}
