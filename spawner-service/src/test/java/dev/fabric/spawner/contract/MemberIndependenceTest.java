package dev.fabric.spawner.contract;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

/**
 * The same jar runs as a spawner and as a member, but the two sides meet only in
 * {@code dev.fabric.spawner.contract}: a member (its bootstrap, node and roles) imports nothing of
 * the spawner's own code, so either side can change without reaching into the other.
 */
class MemberIndependenceTest {

    static final JavaClasses CLASSES = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.fabric.spawner");

    @Test
    void memberCodeImportsNothingOfTheSpawnersOwn() {
        noClasses().that().resideInAnyPackage("dev.fabric.spawner.member..", "dev.fabric.spawner.role..")
                .should().dependOnClassesThat()
                .resideInAnyPackage("dev.fabric.spawner.bootstrap..", "dev.fabric.spawner.spawn..", "dev.fabric.spawner.launch..",
                        "dev.fabric.spawner.kubernetes..")
                .because("a member meets its spawner only through dev.fabric.spawner.contract")
                .check(CLASSES);
    }

    @Test
    void theContractDependsOnNeitherSide() {
        noClasses().that().resideInAPackage("dev.fabric.spawner.contract..")
                .should().dependOnClassesThat().resideOutsideOfPackages("dev.fabric.spawner.contract..", "dev.fabric.core..", "java..", "javax..")
                .because("the contract is what both sides share, and nothing more (the JDK and fabric-core aside)")
                .check(CLASSES);
    }
}
