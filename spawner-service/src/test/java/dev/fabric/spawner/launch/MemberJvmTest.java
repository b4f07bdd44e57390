package dev.fabric.spawner.launch;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

class MemberJvmTest {

    @Test
    void theHeapFollowsTheMembersMemoryAndTheJvmItsCpu() {
        assertThat(MemberJvm.options(new Resources("500m", "256Mi"))).startsWith("-Xmx192m")
                .contains("-XX:ActiveProcessorCount=1", "-XX:+UseSerialGC", "-XX:+UseCompactObjectHeaders")
                .containsAll(MemberJvm.FIXED);
        assertThat(MemberJvm.options(new Resources("2500m", "1Gi"))).contains("-Xmx768m", "-XX:ActiveProcessorCount=3");
    }

    /** A cache trained with other options (compact headers, the collector) is ignored by the members' JVM. */
    @Test
    void fabricUpTrainsTheMembersCacheWithTheOptionsMembersStartWith() throws Exception {
        String script = Files.readString(Path.of(System.getProperty("user.dir")).getParent().resolve("fabric"));

        assertThat(script).contains("local member_training=(" + String.join(" ", MemberJvm.TRAINING) + " \"${MEMBER_JVM[@]}\")");
    }

    /** A Kubernetes member's options come from the image's start script: it compiles as soon as a process-launched one. */
    @Test
    void theImagesMembersCompileAsSoonAsTheLaunchersMembers() throws Exception {
        String dockerfile = Files.readString(Path.of(System.getProperty("user.dir")).getParent().resolve("docker/spawner-service.Dockerfile"));

        assertThat(MemberJvm.FIXED).contains(MemberJvm.COMPILE_SOONER);
        assertThat(dockerfile).containsPattern("\\*,member,\\*\\) [^;]*compile=" + Pattern.quote(MemberJvm.COMPILE_SOONER) + " ;;")
                .contains("$spring_aot $compile $FABRIC_JAVA_OPTS");
    }
}
