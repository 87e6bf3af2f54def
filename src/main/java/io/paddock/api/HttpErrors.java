package io.paddock.api;

import io.paddock.engine.RequestRejectedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.codec.DecodingException;
import org.springframework.core.io.buffer.DataBufferLimitException;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.web.reactive.resource.NoResourceFoundException;
import org.springframework.web.server.ResponseStatusException;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.ServerWebInputException;
import org.springframework.web.util.DisconnectedClientHelper;
import reactor.core.publisher.Mono;
import tools.jackson.databind.ObjectMapper;

/**
 * Any failure of a request, from whichever layer, to the status and OpenAI error body it is answered with: typed
 * refusals as {@link OpenAiError#rejected}, the framework's own statuses (unknown path, wrong method, unsupported
 * media type, unreadable or too large body, ...) as themselves with type invalid_request_error (4xx) or server_error
 * (5xx), anything else as a 500 naming the request id, logged once here.
 */
final class HttpErrors {
    private static final Logger log = LoggerFactory.getLogger(HttpErrors.class);

    private HttpErrors() {}

    static OpenAiError.Mapped map(Throwable e, ServerWebExchange exchange) {
        String id = RequestIds.of(exchange);
        OpenAiError.Mapped m = switch (e) {
            case RequestRejectedException r -> OpenAiError.rejected(r);
            case ServerWebInputException in when isTooLarge(in) -> tooLarge(in);
            case ServerWebInputException in -> OpenAiError.http(HttpStatus.BAD_REQUEST, "Invalid request body: " + input(in), null);
            case NoResourceFoundException nf -> OpenAiError.http(HttpStatus.NOT_FOUND, "Invalid URL (" + where(exchange) + ")", "not_found");
            case ResponseStatusException s when isTooLarge(s) -> tooLarge(s);
            case ResponseStatusException s -> status(s, id);
            case DataBufferLimitException limit -> tooLarge(limit);
            default -> OpenAiError.from(e, id);
        };
        if (m.serverFault()) {
            // A body cut off by a client that went away is no fault of the server's; the answer reaches no one.
            if (DisconnectedClientHelper.isClientDisconnectedException(e)) log.debug("request {}: client gone", id, e);
            else log.error("request {} failed", id, e);
        }
        return m;
    }

    /** Headers the framework attached to its status (Allow for 405, Accept for 415); empty otherwise. */
    static HttpHeaders headers(Throwable e) {
        return e instanceof ResponseStatusException s ? s.getHeaders() : HttpHeaders.EMPTY;
    }

    /**
     * Writes the answer as JSON whatever the client accepts (an error body must reach a client that asked for
     * something else, 406 included), with its request id; headers of an earlier, abandoned answer are dropped.
     * Once the status line is out (a stream under way) nothing can be said, and a client that has gone is no one to
     * answer (nor a server fault): the failure goes on, and the connection ends.
     */
    static Mono<Void> write(ServerWebExchange exchange, Throwable e, ObjectMapper json) {
        ServerHttpResponse response = exchange.getResponse();
        if (response.isCommitted() || DisconnectedClientHelper.isClientDisconnectedException(e)) return Mono.error(e);
        OpenAiError.Mapped m = map(e, exchange);
        byte[] body = json.writeValueAsBytes(m.error());
        response.setStatusCode(m.status());
        HttpHeaders h = response.getHeaders();
        String id = RequestIds.of(exchange);
        h.clear();
        h.set(RequestIds.HEADER, id.equals("-") ? RequestIds.generate() : id);
        headers(e).forEach(h::put);
        if (m.retryAfter() != null) h.set(HttpHeaders.RETRY_AFTER, m.retryAfter());
        h.setContentType(MediaType.APPLICATION_JSON);
        h.setContentLength(body.length);
        return response.writeWith(Mono.just(response.bufferFactory().wrap(body)));
    }

    private static OpenAiError.Mapped status(ResponseStatusException s, String id) {
        HttpStatus status = HttpStatus.resolve(s.getStatusCode().value());
        if (status == null) status = s.getStatusCode().is4xxClientError() ? HttpStatus.BAD_REQUEST : HttpStatus.INTERNAL_SERVER_ERROR;
        String message = s.getReason() != null ? s.getReason() : status.value() + " " + status.getReasonPhrase();
        if (status == HttpStatus.INTERNAL_SERVER_ERROR) return OpenAiError.internal(message, id);
        return OpenAiError.http(status, message, status == HttpStatus.NOT_FOUND ? "not_found" : null);
    }

    private static boolean isTooLarge(Throwable e) {
        if (e instanceof ResponseStatusException s && s.getStatusCode().value() == HttpStatus.CONTENT_TOO_LARGE.value()) return true;
        for (Throwable c = e; c != null; c = c.getCause()) if (c instanceof DataBufferLimitException) return true;
        return false;
    }

    private static OpenAiError.Mapped tooLarge(Throwable e) {
        String detail = e instanceof ResponseStatusException s && s.getReason() != null ? s.getReason() : null;
        for (Throwable c = e; detail == null && c != null; c = c.getCause()) {
            if (c instanceof DataBufferLimitException) detail = "Request body too large: " + c.getMessage();
        }
        return OpenAiError.http(HttpStatus.CONTENT_TOO_LARGE, detail != null ? detail : "Request body too large", null);
    }

    /** The reader's own words (Jackson names the offset), first line only; the empty body said plainly. */
    private static String input(ServerWebInputException in) {
        Throwable cause = in.getMostSpecificCause();
        String detail = cause instanceof DecodingException || cause != in ? cause.getMessage() : in.getReason();
        if (detail == null) return "unreadable JSON";
        if (detail.startsWith("No request body")) return "the body is empty; send a JSON object";
        int nl = detail.indexOf('\n');
        return nl < 0 ? detail : detail.substring(0, nl);
    }

    private static String where(ServerWebExchange exchange) {
        if (exchange == null) return "unknown";
        String path = exchange.getRequest().getPath().value();
        return exchange.getRequest().getMethod().name() + " " + AccessLog.bounded(path);
    }
}
