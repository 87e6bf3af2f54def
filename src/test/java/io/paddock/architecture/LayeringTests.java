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
}
