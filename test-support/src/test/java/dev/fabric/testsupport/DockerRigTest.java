package dev.fabric.testsupport;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.fabric.testsupport.DockerRig.Verdict;

class DockerRigTest {

    private static final String IMAGE = "fabric/base:local";

    @Test
    void engineAndImagePresentRunsTheTest() {
        assertThat(new DockerRig(true, true, IMAGE, false).verdict()).isEqualTo(new Verdict.Run());
        assertThat(new DockerRig(true, true, IMAGE, true).verdict()).isEqualTo(new Verdict.Run());
    }

    @Test
    void missingEngineSkipsAndSaysHowToFixIt() {
        Verdict verdict = new DockerRig(false, false, IMAGE, false).verdict();

        assertThat(verdict).isInstanceOfSatisfying(Verdict.Skip.class, skip -> assertThat(skip.message())
                .contains("no Docker engine answers")
                .contains("./fabric rig")
                .contains("FABRIC_REQUIRE_DOCKER=1"));
    }

    @Test
    void missingImageSkipsAndNamesTheImage() {
        Verdict verdict = new DockerRig(true, false, "fabric/base:other", false).verdict();

        assertThat(verdict).isInstanceOfSatisfying(Verdict.Skip.class, skip -> assertThat(skip.message())
                .contains("fabric/base:other is absent")
                .contains("./fabric rig")
                .contains("FABRIC_BASE_IMAGE"));
    }

    @Test
    void missingEngineFailsWhenDockerIsRequired() {
        Verdict verdict = new DockerRig(false, false, IMAGE, true).verdict();

        assertThat(verdict).isInstanceOfSatisfying(Verdict.Fail.class, fail -> assertThat(fail.message())
                .contains("no Docker engine answers")
                .contains("./fabric rig")
                .contains("FABRIC_REQUIRE_DOCKER=1 makes this a failure"));
    }

    @Test
    void missingImageFailsWhenDockerIsRequired() {
        Verdict verdict = new DockerRig(true, false, IMAGE, true).verdict();

        assertThat(verdict).isInstanceOfSatisfying(Verdict.Fail.class, fail -> assertThat(fail.message())
                .contains(IMAGE + " is absent")
                .contains("./fabric rig"));
    }

    @Test
    void dockerIsRequiredOnlyWhenTheVariableSaysSo() {
        assertThat(DockerRig.requiredBy(Map.of())).isFalse();
        assertThat(DockerRig.requiredBy(Map.of("FABRIC_REQUIRE_DOCKER", "0"))).isFalse();
        assertThat(DockerRig.requiredBy(Map.of("FABRIC_REQUIRE_DOCKER", ""))).isFalse();
        assertThat(DockerRig.requiredBy(Map.of("FABRIC_REQUIRE_DOCKER", "1"))).isTrue();
        assertThat(DockerRig.requiredBy(Map.of("FABRIC_REQUIRE_DOCKER", "true"))).isTrue();
    }
}
