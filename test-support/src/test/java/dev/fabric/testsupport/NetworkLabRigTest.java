package dev.fabric.testsupport;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.fabric.testsupport.DockerRig.Verdict;

class NetworkLabRigTest {

    @Test
    void rootWithEveryToolAndWorkingNamespacesRunsTheTest() {
        assertThat(new NetworkLabRig(true, List.of(), "", false).verdict()).isEqualTo(new Verdict.Run());
        assertThat(new NetworkLabRig(true, List.of(), "", true).verdict()).isEqualTo(new Verdict.Run());
    }

    @Test
    void withoutRootTheTestIsSkippedAndSaysWhy() {
        Verdict verdict = new NetworkLabRig(false, List.of(), "", false).verdict();

        assertThat(verdict).isInstanceOfSatisfying(Verdict.Skip.class, skip -> assertThat(skip.message())
                .contains("other than root")
                .contains("FABRIC_REQUIRE_NETLAB=1"));
    }

    @Test
    void missingToolsAreNamedWithHowToInstallThem() {
        Verdict verdict = new NetworkLabRig(true, List.of("sshd", "iptables"), "", false).verdict();

        assertThat(verdict).isInstanceOfSatisfying(Verdict.Skip.class, skip -> assertThat(skip.message())
                .contains("sshd, iptables are missing")
                .contains("./fabric rig"));
    }

    @Test
    void namespacesThatCannotBeMadeAreReportedWithTheReason() {
        Verdict verdict = new NetworkLabRig(true, List.of(), "mount --make-shared /run/netns failed: Permission denied", true)
                .verdict();

        assertThat(verdict).isInstanceOfSatisfying(Verdict.Fail.class, fail -> assertThat(fail.message())
                .contains("Permission denied")
                .contains("FABRIC_REQUIRE_NETLAB=1 makes this a failure"));
    }

    @Test
    void aMissingToolFailsWhenTheLabIsRequired() {
        Verdict verdict = new NetworkLabRig(true, List.of("sshd"), "", true).verdict();

        assertThat(verdict).isInstanceOfSatisfying(Verdict.Fail.class, fail -> assertThat(fail.message())
                .contains("sshd is missing"));
    }

    @Test
    void onlyOneOrTrueRequiresTheLab() {
        assertThat(NetworkLabRig.requiredBy(Map.of("FABRIC_REQUIRE_NETLAB", "1"))).isTrue();
        assertThat(NetworkLabRig.requiredBy(Map.of("FABRIC_REQUIRE_NETLAB", "true"))).isTrue();
        assertThat(NetworkLabRig.requiredBy(Map.of("FABRIC_REQUIRE_NETLAB", "0"))).isFalse();
        assertThat(NetworkLabRig.requiredBy(Map.of())).isFalse();
    }
}
