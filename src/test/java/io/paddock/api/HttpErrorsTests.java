package io.paddock.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.paddock.engine.RequestRejectedException;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.core.codec.DecodingException;
import org.springframework.core.io.buffer.DataBufferLimitException;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.mock.http.server.reactive.MockServerHttpRequest;
import org.springframework.mock.web.server.MockServerWebExchange;
import org.springframework.web.server.MethodNotAllowedException;
import org.springframework.web.server.NotAcceptableStatusException;
import org.springframework.web.server.ResponseStatusException;
import org.springframework.web.server.ServerWebInputException;
import org.springframework.web.server.UnsupportedMediaTypeStatusException;
import tools.jackson.databind.json.JsonMapper;

/** The one mapping of failures from any layer to status and OpenAI body, request ids, and the Netty-level checks. */
class HttpErrorsTests {

    private static MockServerWebExchange exchange(String id) {
        var ex = MockServerWebExchange.from(MockServerHttpRequest.post("/v1/completions"));
        if (id != null) ex.getAttributes().put(RequestIds.KEY, id);
        return ex;
    }

    @Test
    void frameworkStatusesKeepTheirStatusWithAClientErrorType() {
        var cases = new Object[][] {
            {new MethodNotAllowedException("DELETE", Set.of(org.springframework.http.HttpMethod.POST)), 405},
            {new UnsupportedMediaTypeStatusException(MediaType.TEXT_PLAIN, java.util.List.of(MediaType.APPLICATION_JSON)), 415},
            {new NotAcceptableStatusException(java.util.List.of(MediaType.APPLICATION_JSON)), 406},
            {new ServerWebInputException("bad", null, new DecodingException("Unexpected end-of-input\nat line 2")), 400},
            {new ResponseStatusException(HttpStatus.CONTENT_TOO_LARGE), 413},
            {new ServerWebInputException("x", null, new DataBufferLimitException("Exceeded limit on max bytes to buffer : 5")), 413},
            {new DataBufferLimitException("Exceeded limit"), 413},
        };
        for (Object[] c : cases) {
            var m = HttpErrors.map((Throwable) c[0], exchange("req_1"));
            assertThat(m.status().value()).as(c[0].toString()).isEqualTo(c[1]);
            assertThat(m.error().error().type()).isEqualTo("invalid_request_error");
            assertThat(m.error().error().message()).isNotBlank().doesNotContain("\n");
            assertThat(m.serverFault()).isFalse();
        }
        assertThat(HttpErrors.headers(new MethodNotAllowedException("DELETE", Set.of(org.springframework.http.HttpMethod.POST)))
                .getAllow()).containsExactly(org.springframework.http.HttpMethod.POST);
    }

    @Test
    void aServerFaultNamesTheRequestIdAndAServerStatusIsAServerError() {
        var m = HttpErrors.map(new IllegalStateException("boom"), exchange("req_abc"));
        assertThat(m.status()).isEqualTo(HttpStatus.INTERNAL_SERVER_ERROR);
        assertThat(m.error().error().message()).isEqualTo("internal error: boom (request id req_abc)");
        assertThat(m.error().error().type()).isEqualTo("server_error");
        var unavailable = HttpErrors.map(new ResponseStatusException(HttpStatus.SERVICE_UNAVAILABLE, "later"), exchange("r"));
        assertThat(unavailable.error().error().type()).isEqualTo("server_error");
        assertThat(HttpErrors.map(RequestRejectedException.invalid("n", "bad n"), exchange(null)).error().error().param())
                .isEqualTo("n");
    }

    @Test
    void theWrittenAnswerIsJsonWithTheRequestIdWhateverWasAcceptedOrSetBefore() {
        var ex = MockServerWebExchange.from(MockServerHttpRequest.get("/v1/models").accept(MediaType.IMAGE_PNG));
        ex.getAttributes().put(RequestIds.KEY, "req_w");
        ex.getResponse().getHeaders().setContentType(MediaType.TEXT_EVENT_STREAM);
        HttpErrors.write(ex, new NotAcceptableStatusException(java.util.List.of(MediaType.APPLICATION_JSON)),
                JsonMapper.builder().build()).block();
        assertThat(ex.getResponse().getStatusCode().value()).isEqualTo(406);
        assertThat(ex.getResponse().getHeaders().getContentType()).isEqualTo(MediaType.APPLICATION_JSON);
        assertThat(ex.getResponse().getHeaders().getFirst(RequestIds.HEADER)).isEqualTo("req_w");
        assertThat(ex.getResponse().getBodyAsString().block()).startsWith("{\"error\":{\"message\":");
    }

    @ParameterizedTest
    @ValueSource(strings = {"abc", "trace-0123_ABC.xyz", "a:b/c=d", "~!@#$%^&*()"})
    void saneRequestIdsAreEchoed(String id) {
        assertThat(RequestIds.choose(id)).isEqualTo(id);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "has space", "tab\there", "caf\u00e9", "nul\u0000"})
    void otherRequestIdsAreReplaced(String id) {
        assertThat(RequestIds.choose(id)).matches("req_[0-9a-f]{32}");
        assertThat(RequestIds.choose(null)).matches("req_[0-9a-f]{32}");
        assertThat(RequestIds.choose("x".repeat(128))).hasSize(128);
        assertThat(RequestIds.choose("x".repeat(129))).startsWith("req_");
    }

    @Test
    void nettyLevelProblemsAreNamed() {
        var line = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/bad-request");
        line.setDecoderResult(DecoderResult.failure(new TooLongHttpLineException("An HTTP line is larger than 4096 bytes.")));
        assertThat(MalformedRequests.problem(line)).startsWith("Request line too long");
        var headers = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/health");
        headers.setDecoderResult(DecoderResult.failure(new TooLongHttpHeaderException("HTTP header is larger than 8192 bytes.")));
        assertThat(MalformedRequests.problem(headers)).startsWith("Request headers too large");
        assertThat(MalformedRequests.problem(new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/v1/%zz")))
                .startsWith("Malformed request URI: Malformed escape pair");
        assertThat(MalformedRequests.problem(new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/v1/models?a=%C3%A9")))
                .isNull();
        var host = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/health");
        host.headers().set("Host", "localhost:99999");
        assertThat(MalformedRequests.problem(host)).startsWith("Malformed Host header");
    }

    @Test
    void portsAndTargets() {
        assertThat(MalformedRequests.validPort("localhost")).isTrue();
        assertThat(MalformedRequests.validPort("localhost:8000")).isTrue();
        assertThat(MalformedRequests.validPort("[::1]:8000")).isTrue();
        assertThat(MalformedRequests.validPort("[::1]")).isTrue();
        assertThat(MalformedRequests.validPort("localhost:65536")).isFalse();
        assertThat(MalformedRequests.validPort("localhost:http")).isFalse();
        assertThat(MalformedRequests.validPort("localhost:99999999999")).isFalse();
        assertThat(MalformedRequests.requestTarget("http://x:1/v1/models?a=b")).isEqualTo("/v1/models?a=b");
        assertThat(MalformedRequests.requestTarget("/v1/models?next=http://x/y")).isEqualTo("/v1/models?next=http://x/y");
    }
}
