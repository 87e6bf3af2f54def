package io.paddock.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.paddock.engine.EngineConfig;
import io.paddock.engine.GenerationRequest;
import io.paddock.engine.GenerationService;
import io.paddock.loading.LoadedModel;
import io.paddock.model.DemoModel;
import io.paddock.model.LlamaConfig;
import io.paddock.runtime.KvStore;
import io.paddock.runtime.ModelRuntime;
import io.paddock.runtime.StepChunk;
import io.paddock.sampling.SamplingParams;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.http.HttpStatus;
import org.springframework.mock.http.server.reactive.MockServerHttpRequest;
import org.springframework.mock.web.server.MockServerWebExchange;
import tools.jackson.databind.json.JsonMapper;

/**
 * A runtime that throws {@link IllegalArgumentException} mid-request (as CpuLlama does for a bad position) is an
 * engine fault: the client gets a 500 server_error, not a 400 blaming its request.
 */
class RuntimeFaultTests {

    /** The demo model's runtime, except that every forward pass fails the way a kernel bug would. */
    private record FailingRuntime(ModelRuntime delegate) implements ModelRuntime {
        @Override public LlamaConfig config() { return delegate.config(); }
        @Override public String name() { return "failing"; }
        @Override public long kvBytesPerToken() { return delegate.kvBytesPerToken(); }
        @Override public long defaultKvBudgetBytes() { return delegate.defaultKvBudgetBytes(); }
        @Override public void reserveStep(int maxRows, int maxSeqs, int blockSize) {
            delegate.reserveStep(maxRows, maxSeqs, blockSize);
        }
        @Override public KvStore newKvStore(int numBlocks, int blockSize) { return delegate.newKvStore(numBlocks, blockSize); }
        @Override public float[][] forward(KvStore kv, List<StepChunk> chunks) {
            throw new IllegalArgumentException("position 3 has no KV block or exceeds the context");
        }
        @Override public void close() { delegate.close(); }
    }

    @Test
    void anIllegalArgumentExceptionFromTheRuntimeBecomesA500(@TempDir Path cache) throws Exception {
        LoadedModel demo = LoadedModel.load(DemoModel.ID, DemoModel.DESCRIPTION, DemoModel.materialize(cache), 1);
        LoadedModel failing = new LoadedModel(demo.id(), demo.description(), demo.checkpoint(), demo.tokenizer(),
                new FailingRuntime(demo.runtime()), demo.parallel(), demo.eosIds(), demo.addBos());
        try (GenerationService service = new GenerationService(failing, new EngineConfig(16, 0, 1, 512, true, 4))) {
            int[] prompt = service.model().encodePrompt("once upon a time");
            var request = new GenerationRequest(prompt, 4, SamplingParams.greedy(), List.of(), false);
            service.validate(request); // the request itself is fine
            var result = service.submit(request);
            assertThatThrownBy(() -> result.get(30, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(IllegalArgumentException.class);
            Throwable fault = catchCause(result);

            var mapped = OpenAiError.from(fault);
            assertThat(mapped.status()).isEqualTo(HttpStatus.INTERNAL_SERVER_ERROR);
            assertThat(mapped.error().error().type()).isEqualTo("server_error");
            assertThat(mapped.error().error().param()).isNull();
            var exchange = MockServerWebExchange.from(MockServerHttpRequest.post("/v1/completions"));
            new ApiExceptionHandler(JsonMapper.builder().build()).handle((Exception) fault, exchange).block();
            assertThat(exchange.getResponse().getStatusCode()).isEqualTo(HttpStatus.INTERNAL_SERVER_ERROR);
        }
    }

    private static Throwable catchCause(Future<?> f) throws InterruptedException {
        try {
            f.get(30, TimeUnit.SECONDS);
            throw new AssertionError("expected a failure");
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (TimeoutException e) {
            throw new AssertionError(e);
        }
    }
}
