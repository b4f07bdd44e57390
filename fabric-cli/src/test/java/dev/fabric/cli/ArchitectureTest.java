package dev.fabric.cli;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * The CLI's packages depend downwards only, so a change finds its room and sees what it may touch:
 * the root ({@link FabricCli}), the commands, the context they are given, the registry's API, HTTP,
 * and what every layer shares. A command never reaches back into the root.
 */
class ArchitectureTest {

    private static final JavaClasses CLI = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_JARS)
            .importPackages("dev.fabric.cli");

    @Test
    void noPackageCycles() {
        slices().matching("dev.fabric.cli.(**)").should().beFreeOfCycles().check(CLI);
    }

    @Test
    void layersDependDownwardsOnly() {
        layeredArchitecture().consideringOnlyDependenciesInLayers()
                .layer("root").definedBy("dev.fabric.cli")
                .layer("commands").definedBy("dev.fabric.cli.commands..")
                .layer("context").definedBy("dev.fabric.cli.context..")
                .layer("registry").definedBy("dev.fabric.cli.registry..")
                .layer("http").definedBy("dev.fabric.cli.http..")
                .layer("common").definedBy("dev.fabric.cli.common..")
                .whereLayer("root").mayNotBeAccessedByAnyLayer()
                .whereLayer("commands").mayOnlyBeAccessedByLayers("root")
                .whereLayer("context").mayOnlyBeAccessedByLayers("root", "commands")
                .whereLayer("registry").mayOnlyBeAccessedByLayers("root", "commands", "context")
                .whereLayer("http").mayOnlyBeAccessedByLayers("root", "commands", "context", "registry")
                .check(CLI);
    }

    @Test
    void theCommonPartsDependOnNoOtherLayer() {
        noClasses().that().resideInAPackage("dev.fabric.cli.common..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.fabric.cli", "dev.fabric.cli.commands..",
                        "dev.fabric.cli.context..", "dev.fabric.cli.registry..", "dev.fabric.cli.http..")
                .check(CLI);
    }
}
