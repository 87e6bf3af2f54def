package io.paddock.api;

import io.paddock.config.HttpProperties;
import org.springframework.boot.http.codec.CodecCustomizer;
import org.springframework.boot.reactor.netty.NettyServerCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpStatus;
import org.springframework.security.web.server.firewall.ServerExchangeRejectedHandler;
import org.springframework.web.server.ResponseStatusException;
import reactor.netty.NettyPipeline;
import tools.jackson.databind.ObjectMapper;

/** The HTTP edge's settings below the controllers: the body limit in the codecs, and the Netty-level refusals. */
@Configuration(proxyBeanMethods = false)
class HttpEdge {

    /** Last, so that {@code paddock.http.max-body-bytes} wins over {@code spring.codec.max-in-memory-size}. */
    @Bean
    @Order(Ordered.LOWEST_PRECEDENCE)
    CodecCustomizer bodyLimitForCodecs(HttpProperties props) {
        int max = Math.toIntExact(props.maxBodyBytes().toBytes());
        return codecs -> codecs.defaultCodecs().maxInMemorySize(max);
    }

    /**
     * Spring Security's firewall (an encoded slash or NUL, "..", "//", a method such as TRACE) refuses with an empty 400
     * of its own; with this it answers with the OpenAI body, the request id and an access-log line like any other 400.
     */
    @Bean
    ServerExchangeRejectedHandler firewallRejections(ObjectMapper json) {
        return (exchange, e) -> HttpErrors.write(exchange,
                new ResponseStatusException(HttpStatus.BAD_REQUEST, e.getMessage()), json);
    }

    /**
     * Requests Reactor Netty or Spring's adapter would refuse with an empty body (request line or headers over the
     * limit, malformed HTTP, an unparsable URI) are answered by {@link MalformedRequests} instead, placed just before
     * Reactor Netty's own handler.
     */
    @Bean
    NettyServerCustomizer malformedRequests(ObjectMapper json) {
        return server -> server.doOnChannelInit((observer, channel, remote) -> {
            var pipeline = channel.pipeline();
            if (pipeline.get(NettyPipeline.HttpTrafficHandler) != null) {
                pipeline.addBefore(NettyPipeline.HttpTrafficHandler, MalformedRequests.NAME, new MalformedRequests(json));
            }
        });
    }
}
