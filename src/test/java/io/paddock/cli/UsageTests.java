package io.paddock.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class UsageTests {
    @Test
    void everyCommandHasItsOwnUsage() {
        for (String command : new String[] {"serve", "generate", "pull", "tokenize", "synth", "bench"}) {
            assertThat(Usage.of(command)).startsWith("usage: paddock " + command).contains("  " + command + " ");
            assertThat(Usage.ALL).contains("  " + command + " ");
        }
        assertThat(Usage.of("nope")).isNull();
    }

    @Test
    void helpIsAskedWithEitherSpelling() {
        assertThat(Usage.asksForHelp(new String[] {"--model", "x", "--help"})).isTrue();
        assertThat(Usage.asksForHelp(new String[] {"-h"})).isTrue();
        assertThat(Usage.asksForHelp(new String[] {"--model", "x"})).isFalse();
    }
}
