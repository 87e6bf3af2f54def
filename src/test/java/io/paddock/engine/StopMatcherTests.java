package io.paddock.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class StopMatcherTests {

    private static String feed(StopMatcher m, String... pieces) {
        StringBuilder out = new StringBuilder();
        for (String p : pieces) out.append(m.append(p));
        if (!m.stopped()) out.append(m.finish(""));
        return out.toString();
    }

    @Test
    void stopSpanningTokensNeverLeaks() {
        StopMatcher m = new StopMatcher(List.of("### Human:"));
        assertThat(m.append("Hello ")).isEqualTo("Hello ");
        assertThat(m.append("##")).isEmpty();          // could still become the stop string
        assertThat(m.append("# Hu")).isEmpty();
        assertThat(m.append("man: more")).isEmpty();
        assertThat(m.stopped()).isTrue();
        assertThat(m.text()).isEqualTo("Hello ");
    }

    @Test
    void heldBackTextIsReleasedWhenItCannotMatch() {
        StopMatcher m = new StopMatcher(List.of("END"));
        assertThat(m.append("the E")).isEqualTo("the ");
        assertThat(m.append("Xtra")).isEqualTo("EXtra");
        assertThat(m.finish("")).isEmpty();
        assertThat(m.text()).isEqualTo("the EXtra");
    }

    @Test
    void earliestOfSeveralStopsWins() {
        StopMatcher m = new StopMatcher(List.of("b", "abc"));
        assertThat(feed(m, "xxab", "c")).isEqualTo("xxa");
    }

    @Test
    void noStopsPassesEverythingThrough() {
        StopMatcher m = new StopMatcher(List.of());
        assertThat(feed(m, "a", "b")).isEqualTo("ab");
        assertThat(m.stopped()).isFalse();
    }

    @Test
    void unfinishedPrefixIsFlushedAtTheEnd() {
        StopMatcher m = new StopMatcher(List.of("STOP"));
        assertThat(m.append("go ST")).isEqualTo("go ");
        assertThat(m.finish("")).isEqualTo("ST");
    }
}
