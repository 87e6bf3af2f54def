package io.paddock.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * Keeps the engine plain Java (only the HTTP/config edge may use Spring; only runtime.cuda may use JCuda) and the
 * packages layered as the README's Layout section describes: imports run downward only, and no package cycles.
 */
@AnalyzeClasses(packages = "io.paddock", importOptions = ImportOption.DoNotIncludeTests.class)
class LayeringTests {

    @ArchTest
    static final ArchRule coreHasNoSpring = noClasses()
            .that().resideInAnyPackage("io.paddock.engine..", "io.paddock.model..", "io.paddock.format..",
                    "io.paddock.tokenizer..", "io.paddock.sampling..", "io.paddock.runtime..", "io.paddock.cli..",
                    "io.paddock.chat..", "io.paddock.kvcache..", "io.paddock.bench..",
                    "io.paddock.metrics..", "io.paddock.hub..", "io.paddock.structured..")
            .should().dependOnClassesThat().resideInAnyPackage("org.springframework..", "reactor..")
            .because("the engine core must run from a CLI, a benchmark or a test without a Spring context");

    @ArchTest
    static final ArchRule onlyCudaRuntimeUsesJcuda = noClasses()
            .that().resideOutsideOfPackage("io.paddock.runtime.cuda..")
            .should().dependOnClassesThat().resideInAnyPackage("jcuda..")
            .allowEmptyShould(true);

    /**
     * The runtime talks to the GPU only through {@code GpuDevice}, so that the simulated device runs every GPU path in
     * CI: the driver binding stays in the one implementation that needs it, the probe and the PTX compiler.
     */
    @ArchTest
    static final ArchRule jcudaOnlyBehindTheDeviceInterface = noClasses()
            .that().resideInAPackage("io.paddock.runtime.cuda..")
            .and().doNotHaveSimpleName("JCudaDevice").and().doNotHaveSimpleName("CudaDevices")
            .and().doNotHaveSimpleName("PtxCompiler")
            .and().haveNameNotMatching("io\\.paddock\\.runtime\\.cuda\\.JCudaDevice\\$.*")
            .should().dependOnClassesThat().resideInAnyPackage("jcuda..")
            .because("CudaRuntime must run unchanged on the simulated device");

    /**
     * Every package, sub-packages counted on their own ({@code runtime.cpu} and {@code runtime.cuda} are two slices),
     * is free of cycles.
     */
    @ArchTest
    static final ArchRule noPackageCycles = slices().matching("io.paddock.(**)").should().beFreeOfCycles()
            .because("a package cycle makes its packages one unit that can be neither understood nor tested alone");

    /**
     * Top to bottom: the application edge (api, config, cli, security, the application classes) and bench; metrics (Micrometer
     * meters fed by the engine's observer, wired by config); engine; loading (the
     * one place that opens a backend); hub (downloads into the Hugging Face cache, below loading, which resolves
     * {@code ORG/NAME} through it); the two backends, which never see each other; the runtime SPI with kvcache,
     * sampling, chat, structured output and tokenizer; model; format. Benchmarks may time the CPU kernels directly.
     */
    @ArchTest
    static final ArchRule layersOnlyImportDownward = layeredArchitecture().consideringOnlyDependenciesInLayers()
            .layer("Application").definedBy("io.paddock", "io.paddock.api..", "io.paddock.config..", "io.paddock.cli..",
                    "io.paddock.security..")
            .layer("Bench").definedBy("io.paddock.bench..")
            .layer("Metrics").definedBy("io.paddock.metrics..")
            .layer("Engine").definedBy("io.paddock.engine..")
            .layer("Loading").definedBy("io.paddock.loading..")
            .layer("Hub").definedBy("io.paddock.hub..")
            .layer("CpuBackend").definedBy("io.paddock.runtime.cpu..")
            .layer("CudaBackend").definedBy("io.paddock.runtime.cuda..")
            .layer("Components").definedBy("io.paddock.runtime", "io.paddock.kvcache..", "io.paddock.sampling..",
                    "io.paddock.chat..", "io.paddock.tokenizer..", "io.paddock.structured..")
            .layer("Model").definedBy("io.paddock.model..", "io.paddock.lora..")
            .layer("Format").definedBy("io.paddock.format..")
            .whereLayer("Application").mayOnlyBeAccessedByLayers("Bench")
            .whereLayer("Bench").mayOnlyBeAccessedByLayers("Application")
            .whereLayer("Metrics").mayOnlyBeAccessedByLayers("Application")
            .whereLayer("Engine").mayOnlyBeAccessedByLayers("Application", "Bench", "Metrics")
            .whereLayer("Loading").mayOnlyBeAccessedByLayers("Application", "Bench", "Engine", "Metrics")
            .whereLayer("Hub").mayOnlyBeAccessedByLayers("Application", "Bench", "Engine", "Loading", "Metrics")
            .whereLayer("CpuBackend").mayOnlyBeAccessedByLayers("Loading", "Bench")
            .whereLayer("CudaBackend").mayOnlyBeAccessedByLayers("Loading")
            .whereLayer("Components").mayOnlyBeAccessedByLayers("Application", "Bench", "Metrics", "Engine",
                    "Loading", "CpuBackend", "CudaBackend")
            .whereLayer("Model").mayOnlyBeAccessedByLayers("Application", "Bench", "Metrics", "Engine", "Loading",
                    "CpuBackend", "CudaBackend", "Components")
            .whereLayer("Format").mayOnlyBeAccessedByLayers("Application", "Bench", "Metrics", "Engine", "Loading",
                    "CpuBackend", "CudaBackend", "Components", "Model")
            .because("the engine sees only the runtime SPI, one place opens a backend, and each layer builds on the"
                    + " ones below it");
}
