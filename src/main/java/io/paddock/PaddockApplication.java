package io.paddock;

import io.paddock.bench.StreamingBench;
import io.paddock.cli.CliArgs;
import io.paddock.engine.GenerationService;
import io.paddock.engine.ModelRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.springframework.boot.SpringApplication;
import sun.misc.Signal;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;
import org.springframework.context.ConfigurableApplicationContext;

/** The Spring Boot application: the HTTP surface over the engine. */
@SpringBootApplication
@ConfigurationPropertiesScan
public class PaddockApplication {

    /** {@code paddock serve [--model DIR] [--port N] [--lora NAME=DIR]...}, plus any Spring {@code --property=value}. */
    static void start(String[] args) {
        List<String> springArgs = new ArrayList<>();
        List<String> own = new ArrayList<>();
        for (String a : args) {
            if (a.startsWith("--model") || a.startsWith("--port") || !a.startsWith("--") || a.startsWith("--threads")
                    || a.startsWith("--gptq-") || a.startsWith("--runtime") || a.equals("--lora") || a.startsWith("--lora=")) {
                own.add(a);
            } else {
                springArgs.add(a);
            }
        }
        CliArgs parsed = new CliArgs(own.toArray(String[]::new),
                CliArgs.union(CliArgs.GPTQ_VALUED, Set.of("model", "port", "threads", "runtime", "lora")), CliArgs.GPTQ_FLAGS);
        if (!parsed.positional().isEmpty()) {
            throw new CliArgs.UsageException("unexpected argument '" + parsed.positional().getFirst() + "'");
        }
        List<String> models = parsed.all("model");
        if (!models.isEmpty()) springArgs.add("--paddock.model.path=" + String.join(",", models));
        List<String> loras = parsed.all("lora");
        for (String l : loras) {
            int eq = l.indexOf('=');
            if (eq <= 0 || eq == l.length() - 1) {
                throw new CliArgs.UsageException("option --lora expects NAME=DIR, got '" + l + "'");
            }
        }
        if (!loras.isEmpty()) springArgs.add("--paddock.lora.adapters=" + String.join(",", loras));
        Integer port = parsed.integer("port", null);
        if (port != null) springArgs.add("--server.port=" + port);
        Integer threads = parsed.integer("threads", null);
        if (threads != null) springArgs.add("--paddock.model.threads=" + threads);
        String runtime = parsed.string("runtime", null);
        if (runtime != null) springArgs.add("--paddock.runtime=" + runtime);
        var gptq = parsed.gptqOverrides();
        if (gptq.bits() != null) springArgs.add("--paddock.model.gptq.bits=" + gptq.bits());
        if (gptq.groupSize() != null) springArgs.add("--paddock.model.gptq.group-size=" + gptq.groupSize());
        if (gptq.actOrder() != null) springArgs.add("--paddock.model.gptq.act-order=" + gptq.actOrder());
        SpringApplication.run(PaddockApplication.class, springArgs.toArray(String[]::new));
        exitZeroOnTerm();
    }

    /**
     * SIGTERM is how Kubernetes and systemd ask for a stop: the shutdown hooks (Spring's graceful drain) run as for any
     * exit, and a completed drain exits 0 instead of the JVM's 143, so a supervisor sees a clean stop.
     */
    @SuppressWarnings("restriction")
    private static void exitZeroOnTerm() {
        try {
            Signal.handle(new Signal("TERM"), sig -> Thread.ofPlatform().name("paddock-sigterm")
                    .start(() -> System.exit(0)));
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            // No TERM signal on this platform: the JVM's own handling stays.
        }
    }

    /** The server for {@code bench streaming}: a free port, warnings only, room for every concurrent client. */
    static StreamingBench.Server benchServer(String model, Integer threads, int maxNumSeqs) {
        List<String> args = new ArrayList<>(List.of("--server.port=0", "--paddock.model.path=" + model,
                "--logging.level.root=WARN", "--paddock.engine.max-num-seqs=" + maxNumSeqs));
        if (threads != null) args.add("--paddock.model.threads=" + threads);
        ConfigurableApplicationContext ctx = new SpringApplication(PaddockApplication.class).run(args.toArray(String[]::new));
        int port = Integer.parseInt(ctx.getEnvironment().getProperty("local.server.port"));
        GenerationService service = ctx.getBean(ModelRegistry.class).defaultService();
        return new StreamingBench.Server() {
            @Override public int port() { return port; }

            @Override public GenerationService service() { return service; }

            @Override public void close() { ctx.close(); }
        };
    }
}
