package io.paddock.security;

import io.micrometer.core.instrument.MeterRegistry;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.HttpHeaders;
import org.springframework.security.authentication.BadCredentialsException;
import org.springframework.security.authentication.ReactiveAuthenticationManager;
import org.springframework.security.config.annotation.web.reactive.EnableWebFluxSecurity;
import org.springframework.security.config.web.server.SecurityWebFiltersOrder;
import org.springframework.security.config.web.server.ServerHttpSecurity;
import org.springframework.security.core.Authentication;
import org.springframework.security.web.server.SecurityWebFilterChain;
import org.springframework.security.web.server.ServerAuthenticationEntryPoint;
import org.springframework.security.web.server.authentication.AuthenticationWebFilter;
import org.springframework.security.web.server.authentication.ServerAuthenticationConverter;
import org.springframework.security.web.server.authentication.ServerAuthenticationEntryPointFailureHandler;
import org.springframework.security.web.server.context.NoOpServerSecurityContextRepository;
import org.springframework.security.web.server.savedrequest.NoOpServerRequestCache;
import org.springframework.security.web.server.util.matcher.NegatedServerWebExchangeMatcher;
import org.springframework.security.web.server.util.matcher.ServerWebExchangeMatchers;
import reactor.core.publisher.Mono;
import tools.jackson.databind.ObjectMapper;

/**
 * API keys with Spring Security's WebFlux support: a bearer converter, an authentication manager over the hashed
 * keys, an entry point that answers OpenAI's 401, and the per-key limits after authorization. Stateless: no CSRF,
 * sessions, form login, HTTP basic or browser security headers (this is an API, not a web site). With no keys
 * configured every path is open.
 */
@Configuration(proxyBeanMethods = false)
@EnableWebFluxSecurity
class SecurityConfiguration {
    private static final Logger log = LoggerFactory.getLogger(SecurityConfiguration.class);

    @Bean
    ApiKeys apiKeys(AuthProperties props) {
        ApiKeys keys = ApiKeys.from(props);
        if (keys.isEmpty()) {
            log.warn("No API keys configured (paddock.auth.keys / paddock.auth.keys-file): every endpoint is open");
        } else {
            log.info("API keys required except on {}; keys: {}", props.openPaths(),
                    keys.all().stream().map(ApiKey::name).collect(Collectors.joining(", ")));
        }
        return keys;
    }

    @Bean
    RateLimits rateLimits(ApiKeys keys, AuthProperties props, MeterRegistry registry) {
        return new RateLimits(keys, props.limitWindow(), registry);
    }

    /** A bean, so that Spring Boot makes no default user (and prints no generated password). */
    @Bean
    ReactiveAuthenticationManager apiKeyAuthenticationManager(ApiKeys keys) {
        return auth -> auth instanceof ApiKeyAuthentication.Presented p
                ? Mono.justOrEmpty(keys.find(p.sha256())).<Authentication>map(ApiKeyAuthentication.Authenticated::new)
                        .switchIfEmpty(Mono.error(() -> new BadCredentialsException("unknown API key")))
                : Mono.empty();
    }

    @Bean
    SecurityWebFilterChain apiKeyFilterChain(ServerHttpSecurity http, ApiKeys keys, AuthProperties props,
            ReactiveAuthenticationManager manager, RateLimits limits, ObjectMapper json) {
        OpenAiErrorWriter errors = new OpenAiErrorWriter(json);
        http.csrf(ServerHttpSecurity.CsrfSpec::disable)
                .httpBasic(ServerHttpSecurity.HttpBasicSpec::disable)
                .formLogin(ServerHttpSecurity.FormLoginSpec::disable)
                .logout(ServerHttpSecurity.LogoutSpec::disable)
                .headers(ServerHttpSecurity.HeaderSpec::disable)
                .requestCache(c -> c.requestCache(NoOpServerRequestCache.getInstance()))
                .securityContextRepository(NoOpServerSecurityContextRepository.getInstance());
        if (keys.isEmpty()) {
            return http.authorizeExchange(e -> e.anyExchange().permitAll()).build();
        }
        String[] open = props.openPaths().toArray(String[]::new);
        ServerAuthenticationEntryPoint entryPoint = (exchange, e) -> errors.unauthorized(exchange.getResponse(),
                e instanceof BadCredentialsException);
        AuthenticationWebFilter authentication = new AuthenticationWebFilter(manager);
        authentication.setServerAuthenticationConverter(bearer());
        authentication.setRequiresAuthenticationMatcher(
                new NegatedServerWebExchangeMatcher(ServerWebExchangeMatchers.pathMatchers(open)));
        authentication.setAuthenticationFailureHandler(new ServerAuthenticationEntryPointFailureHandler(entryPoint));
        authentication.setSecurityContextRepository(NoOpServerSecurityContextRepository.getInstance());
        return http.authorizeExchange(e -> e.pathMatchers(open).permitAll().anyExchange().authenticated())
                .exceptionHandling(e -> e.authenticationEntryPoint(entryPoint))
                .addFilterAt(authentication, SecurityWebFiltersOrder.AUTHENTICATION)
                .addFilterAfter(new KeyLimitsFilter(limits, errors), SecurityWebFiltersOrder.AUTHORIZATION)
                .build();
    }

    /** {@code Authorization: Bearer KEY}; anything else counts as no key. */
    static ServerAuthenticationConverter bearer() {
        return exchange -> {
            String header = exchange.getRequest().getHeaders().getFirst(HttpHeaders.AUTHORIZATION);
            if (header == null || header.length() < 7 || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
                return Mono.empty();
            }
            String key = header.substring(7).trim();
            return key.isEmpty() ? Mono.empty() : Mono.just(new ApiKeyAuthentication.Presented(key));
        };
    }
}
