package io.paddock.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.paddock.testing.SharedModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the reference SentencePiece live: {@code gen_golden.py} under {@code /usr/bin/python3} (Debian's
 * python3-sentencepiece) writes fresh answers, which must equal the committed golden file and the Java
 * tokenizer. Skips, saying why, where that Python or the module is missing.
 */
class TokenizerOracleTests {
    private static final Path PYTHON = Path.of("/usr/bin/python3");
    private static final Path SCRIPT = Path.of("src/test/resources/tokenizer/gen_golden.py");

    @TestFactory
    Stream<DynamicNode> liveOracleAgrees(@TempDir Path tmp) throws Exception {
        Path models = SharedModels.require("llama-tokenizer").getParent();
        assumeTrue(Files.isExecutable(PYTHON), "skipped: " + PYTHON + " not found (the oracle is Debian's python3-sentencepiece)");
        assumeTrue(run(PYTHON.toString(), "-c", "import sentencepiece") == 0,
                "skipped: " + PYTHON + " has no sentencepiece module (apt-get install python3-sentencepiece)");
        assumeTrue(Files.isRegularFile(SCRIPT), "skipped: " + SCRIPT + " not found (run from the repository root)");

        Path out = tmp.resolve("golden.json");
        assertThat(run(PYTHON.toString(), SCRIPT.toString(), models.toString(), out.toString())).as("gen_golden.py exit code").isZero();
        Golden live = Golden.read(out);
        Golden committed = Golden.committed();
        assertThat(live.models().keySet()).isEqualTo(committed.models().keySet());
        for (String name : live.models().keySet()) {
            // The committed file must still be what the oracle says (records compare arrays by identity, so per field).
            var l = live.models().get(name);
            var c = committed.models().get(name);
            assertThat(l.encode()).hasSameSizeAs(c.encode());
            for (int i = 0; i < l.encode().size(); i++) {
                assertThat(l.encode().get(i).text()).isEqualTo(c.encode().get(i).text());
                assertThat(l.encode().get(i).ids()).as("%s encode %d", name, i).containsExactly(c.encode().get(i).ids());
                assertThat(l.encode().get(i).decoded()).isEqualTo(c.encode().get(i).decoded());
            }
            for (int i = 0; i < l.decode().size(); i++) {
                assertThat(l.decode().get(i).ids()).containsExactly(c.decode().get(i).ids());
                assertThat(l.decode().get(i).text()).isEqualTo(c.decode().get(i).text());
            }
        }
        return live.models().entrySet().stream().map(e -> DynamicContainer.dynamicContainer(e.getKey(),
                GoldenParityTests.cases(GoldenParityTests.load(e.getKey(), e.getValue(), models), e.getValue())));
    }

    private static int run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return -1;
        }
        return p.exitValue();
    }
}
