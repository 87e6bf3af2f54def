package io.paddock.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.paddock.engine.RequestRejectedException;
import io.paddock.engine.RequestRejectedException.Reason;
import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.http.HttpStatus;
import org.springframework.mock.http.server.reactive.MockServerHttpRequest;
import org.springframework.mock.http.server.reactive.MockServerHttpResponse;
import org.springframework.mock.web.server.MockServerWebExchange;
import tools.jackson.databind.json.JsonMapper;

/** The one mapping from failures to HTTP status + OpenAI error, reason by reason; untyped failures are 500s. */
class OpenAiErrorMappingTests {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** The answer the controllers' exception handler writes for a failure. */
    private static MockServerHttpResponse handled(Exception e) {
        var exchange = MockServerWebExchange.from(MockServerHttpRequest.post("/v1/completions"));
        new ApiExceptionHandler(JSON).handle(e, exchange).block();
        return exchange.getResponse();
    }

    @ParameterizedTest
    @CsvSource(nullValues = "-", value = {
        // reason,                 status, type,                  param,      code given,  code sent,                retry
        "INVALID_REQUEST,          400,    invalid_request_error, top_p,      -,           -,                        -",
        "CONTEXT_LENGTH_EXCEEDED,  400,    invalid_request_error, messages,   context_length_exceeded, context_length_exceeded, -",
        "CONTEXT_LENGTH_EXCEEDED,  400,    invalid_request_error, max_tokens, -,           context_length_exceeded,  -",
        "NOT_FOUND,                404,    invalid_request_error, model,      model_not_found, model_not_found,      -",
        "UNAUTHORIZED,             401,    invalid_request_error, -,          -,           invalid_api_key,          -",
        "RATE_LIMITED,             429,    requests,              -,          -,           rate_limit_exceeded,      1",
        "OVERLOADED,               503,    server_error,          -,          server_overloaded, server_overloaded,  1",
    })
    void eachReasonHasOneStatusAndType(Reason reason, int status, String type, String param, String code,
            String sentCode, String retryAfter) {
        var e = new RequestRejectedException(reason, "why", param, code);
        var m = OpenAiError.from(e);
        assertThat(m.status().value()).isEqualTo(status);
        assertThat(m.error().error()).isEqualTo(new OpenAiError.Body("why", type, param, sentCode));
        assertThat(m.retryAfter()).isEqualTo(retryAfter);
        assertThat(m.serverFault()).isFalse();

        MockServerHttpResponse response = handled(e);
        assertThat(response.getStatusCode().value()).isEqualTo(status);
        assertThat(response.getHeaders().getFirst("Retry-After")).isEqualTo(retryAfter);
        assertThat(JSON.readValue(response.getBodyAsString().block(), OpenAiError.class)).isEqualTo(m.error());
    }

    @Test
    void everyReasonIsMapped() {
        Set<Reason> tested = EnumSet.allOf(Reason.class);
        for (Reason r : tested) {
            assertThat(OpenAiError.from(new RequestRejectedException(r, "x", null, null)).status())
                    .isNotEqualTo(HttpStatus.INTERNAL_SERVER_ERROR);
        }
    }

    @Test
    void theQueueFullAnswerIsUnchanged() {
        var m = OpenAiError.from(RequestRejectedException.overloaded("the server is busy"));
        assertThat(m.status()).isEqualTo(HttpStatus.SERVICE_UNAVAILABLE);
        assertThat(m.error().error()).isEqualTo(new OpenAiError.Body("the server is busy", "server_error", null,
                "server_overloaded"));
        assertThat(m.retryAfter()).isEqualTo("1");
    }

    @Test
    void anUntypedIllegalArgumentExceptionIsAServerFaultNotTheClientsMistake() {
        var fault = new IllegalArgumentException("position 9 has no KV block or exceeds the context");
        var m = OpenAiError.from(fault);
        assertThat(m.status()).isEqualTo(HttpStatus.INTERNAL_SERVER_ERROR);
        assertThat(m.error().error().type()).isEqualTo("server_error");
        assertThat(m.serverFault()).isTrue();
        MockServerHttpResponse response = handled(fault);
        assertThat(response.getStatusCode()).isEqualTo(HttpStatus.INTERNAL_SERVER_ERROR);
        assertThat(JSON.readValue(response.getBodyAsString().block(), OpenAiError.class).error().type())
                .isEqualTo("server_error");
    }
}
