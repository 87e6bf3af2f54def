package io.paddock.config;

import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.info.Info;
import io.swagger.v3.oas.models.info.License;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The OpenAPI document's header; the operations and OpenAI-named schemas come from the controllers. */
@Configuration(proxyBeanMethods = false)
public class OpenApiConfiguration {

    @Bean
    OpenAPI paddockOpenApi() {
        return new OpenAPI().info(new Info().title("paddock").version("v1")
                .description("OpenAI-compatible inference server for GPTQ-quantized LLaMA-family models."
                        + " Point any OpenAI client's base URL at /v1. Field-by-field compatibility:"
                        + " docs/openai-compatibility.md.")
                .license(new License().name("see repository")));
    }
}
