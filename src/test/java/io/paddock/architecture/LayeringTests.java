package io.paddock.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/** Keeps the engine plain Java: only the HTTP/config edge may use Spring; only runtime.cuda may use JCuda. */
@AnalyzeClasses(packages = "io.paddock", importOptions = ImportOption.DoNotIncludeTests.class)
class LayeringTests {

    @ArchTest
    static final ArchRule coreHasNoSpring = noClasses()
            .that().resideInAnyPackage("io.paddock.engine..", "io.paddock.model..", "io.paddock.format..",
                    "io.paddock.tokenizer..", "io.paddock.sampling..", "io.paddock.runtime..", "io.paddock.cli..",
                    "io.paddock.chat..", "io.paddock.kvcache..", "io.paddock.bench..")
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
}
