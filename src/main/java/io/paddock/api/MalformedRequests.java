package io.paddock.api;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.DecoderResultProvider;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;
import java.net.URI;
import java.net.URISyntaxException;
import org.springframework.http.HttpStatus;
import tools.jackson.databind.ObjectMapper;

/**
 * Answers, with the OpenAI error body, a request id and an access-log line, what would otherwise get an empty answer
 * from below Spring: Netty's decoder failures (414 request line over {@code server.netty.max-initial-line-length},
 * 431 headers over {@code server.max-http-request-header-size}, 400 for malformed HTTP such as a bad chunk size or a
 * bad Content-Length), and 400 for a request target Spring cannot parse as a URI (bad percent-encoding, spaces or
 * brackets in the path) or a Host header with a bad port, both of which Reactor Netty and Spring's adapter refuse
 * with an empty 400. The connection is closed after such an answer: what follows on it cannot be trusted.
 * One per channel, just before Reactor Netty's {@code HttpTrafficHandler}.
 */
final class MalformedRequests extends ChannelDuplexHandler {
    static final String NAME = "paddock.malformedRequests";

    private final ObjectMapper json;
    /** An answer has been written for the request now being read: a later body failure can only close. */
    private boolean answered;
    /** This connection has been refused: everything still arriving is dropped. */
    private boolean refused;

    MalformedRequests(ObjectMapper json) {
        this.json = json;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (refused) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof HttpRequest request) {
            answered = false;
            String why = problem(request);
            if (why != null) {
                ReferenceCountUtil.release(msg);
                refuse(ctx, request, statusFor(request), why);
                return;
            }
        } else if (msg instanceof HttpContent content && content.decoderResult().isFailure()) {
            ReferenceCountUtil.release(msg);
            if (answered) {
                refused = true;
                ctx.close();
            } else {
                refuse(ctx, null, HttpStatus.BAD_REQUEST, "Malformed HTTP request body: "
                        + cut(content.decoderResult().cause().getMessage()));
            }
            return;
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
        if (msg instanceof HttpResponse) answered = true;
        super.write(ctx, msg, promise);
    }

    /** Why the request cannot go on to Spring, or null. */
    static String problem(HttpRequest request) {
        if (request.decoderResult().isFailure()) {
            Throwable cause = request.decoderResult().cause();
            String detail = cut(cause.getMessage());
            if (cause instanceof TooLongHttpLineException) return "Request line too long: " + detail;
            if (cause instanceof TooLongHttpHeaderException) return "Request headers too large: " + detail;
            return "Malformed HTTP request: " + detail;
        }
        String target = requestTarget(request.uri());
        try {
            new URI(target);
        } catch (URISyntaxException e) {
            return "Malformed request URI: " + e.getReason() + " at index " + e.getIndex();
        }
        String host = request.headers().get(HttpHeaderNames.HOST);
        if (host != null && !validPort(host)) return "Malformed Host header: the port is not a number from 0 to 65535";
        return null;
    }

    private static HttpStatus statusFor(HttpRequest request) {
        if (!request.decoderResult().isFailure()) return HttpStatus.BAD_REQUEST;
        Throwable cause = request.decoderResult().cause();
        if (cause instanceof TooLongHttpLineException) return HttpStatus.URI_TOO_LONG;
        if (cause instanceof TooLongHttpHeaderException) return HttpStatus.REQUEST_HEADER_FIELDS_TOO_LARGE;
        return HttpStatus.BAD_REQUEST;
    }

    private void refuse(ChannelHandlerContext ctx, HttpRequest request, HttpStatus status, String message) {
        refused = true;
        String sent = request == null ? null : request.headers().get(RequestIds.HEADER);
        String id = RequestIds.choose(sent);
        byte[] body = json.writeValueAsBytes(OpenAiError.http(status, message, null).error());
        var response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status.value()),
                Unpooled.wrappedBuffer(body));
        response.headers()
                .set(RequestIds.HEADER, id)
                .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length)
                .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        // A request that failed to decode has no trustworthy method or target (Netty puts "GET /bad-request" there).
        boolean whole = request != null && !request.decoderResult().isFailure();
        String target = whole ? request.uri() : "-";
        int query = target.indexOf('?');
        AccessLog.log.info(AccessLog.line(whole ? AccessLog.bounded(request.method().name()) : "-",
                AccessLog.bounded(query < 0 ? target : target.substring(0, query)), status.value(), 0, id, "refused"));
        ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }

    /** The path-and-query part, as Spring's adapter takes it (an absolute-form target loses scheme and authority). */
    static String requestTarget(String uri) {
        int scheme = uri.indexOf("://");
        if (scheme > 0 && uri.indexOf('/') > scheme) {
            int slash = uri.indexOf('/', scheme + 3);
            return slash < 0 ? "" : uri.substring(slash);
        }
        return uri;
    }

    static boolean validPort(String host) {
        int colon = host.lastIndexOf(':');
        if (colon < 0 || colon < host.lastIndexOf(']')) return true;
        String port = host.substring(colon + 1);
        if (port.isEmpty() || port.length() > 5) return port.isEmpty();
        for (int i = 0; i < port.length(); i++) if (!Character.isDigit(port.charAt(i))) return false;
        return Integer.parseInt(port) <= 65535;
    }

    private static String cut(String s) {
        if (s == null) return "unreadable";
        return s.length() <= 200 ? s : s.substring(0, 200) + "...";
    }
}
