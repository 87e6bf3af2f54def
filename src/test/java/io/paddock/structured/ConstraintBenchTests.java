package io.paddock.structured;

import static org.assertj.core.api.Assertions.assertThat;

import io.paddock.bench.ConstraintBench;
import io.paddock.testing.SharedModels;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The mask-cost bench runs and reports (its figures are not asserted: machines differ). */
class ConstraintBenchTests {
    @Test
    void benchReplaysTheDocumentAndReportsColdAndCachedCosts() {
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        ConstraintBench.Result r = ConstraintBench.run(SharedModels.require("stories260K"), 1,
                new PrintStream(text, true, StandardCharsets.UTF_8));
        assertThat(r.steps()).isGreaterThan(50);
        assertThat(r.vocabSize()).isEqualTo(512);
        assertThat(r.coldMeanUs()).isPositive();
        assertThat(text.toString(StandardCharsets.UTF_8)).contains("cold (empty cache)").contains("cached:");
    }
}
