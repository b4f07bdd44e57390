package dev.fabric.escrow.sidecar;

import dev.fabric.escrow.descriptor.Posix;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.validation.autoconfigure.ValidationAutoConfiguration;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.context.annotation.Configuration;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code fabric.escrow.*}: the documented defaults, and values that cannot work refused at start with a clear message. */
class EscrowPropertiesTest {

    @Configuration(proxyBeanMethods = false)
    @EnableConfigurationProperties(EscrowProperties.class)
    static class Bound {
    }

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(ValidationAutoConfiguration.class))
            .withUserConfiguration(Bound.class);

    @Test
    void defaults() {
        runner.run(context -> {
            EscrowProperties properties = context.getBean(EscrowProperties.class);
            assertThat(properties.socketPath()).isEqualTo(Path.of("/run/escrow/escrow.sock"));
            assertThat(properties.nrTags()).isEqualTo(32);
            assertThat(properties.allowedUids()).isEmpty();
            assertThat(properties.allowedGids()).isEmpty();
            assertThat(properties.force()).isTrue();
            assertThat(properties.verbose()).isFalse();
            assertThat(properties.shutdownGrace()).isEqualTo(Duration.ofSeconds(5));
            assertThat(properties.maxSlots()).isEqualTo(131_072);
            assertThat(properties.maxPayloadBytes()).isEqualTo(16L << 20);
            assertThat(properties.idleTimeout()).isEqualTo(Duration.ofSeconds(30));
            assertThat(properties.peers().uids()).as("own uid by default").containsExactly(Posix.getuid());
        });
    }

    @Test
    void environmentStyleValuesBind() {
        runner.withPropertyValues("fabric.escrow.socket-path=/tmp/x/e.sock", "fabric.escrow.nr-tags=2",
                "fabric.escrow.allowed-uids=10001,10002", "fabric.escrow.allowed-gids=20000", "fabric.escrow.shutdown-grace=1s")
                .run(context -> {
                    EscrowProperties properties = context.getBean(EscrowProperties.class);
                    assertThat(properties.peers().uids()).isEqualTo(Set.of(10001, 10002));
                    assertThat(properties.peers().gids()).isEqualTo(Set.of(20000));
                    assertThat(properties.toConfig(tag -> { }).nrTags()).isEqualTo(2);
                    assertThat(properties.toConfig(tag -> { }).shutdownGrace()).isEqualTo(Duration.ofSeconds(1));
                });
    }

    @Test
    void limitsAndIdleTimeoutReachTheEngine() {
        runner.withPropertyValues("fabric.escrow.max-slots=100", "fabric.escrow.max-payload-bytes=4096", "fabric.escrow.idle-timeout=2m")
                .run(context -> {
                    var config = context.getBean(EscrowProperties.class).toConfig(tag -> { });
                    assertThat(config.maxSlots()).isEqualTo(100);
                    assertThat(config.maxPayloadBytes()).isEqualTo(4096);
                    assertThat(config.idleTimeout()).isEqualTo(Duration.ofMinutes(2));
                });
    }

    @Test
    void zeroMaxSlotsAreRefused() {
        assertRefused("fabric.escrow.max-slots=0", "maxSlots", "must be at least 1");
    }

    @Test
    void zeroTagsAreRefusedSayingWhatIsAllowed() {
        assertRefused("fabric.escrow.nr-tags=0", "nrTags", "must be between 1 and 32768");
    }

    @Test
    void moreTagsThanTheWireCarriesAreRefused() {
        assertRefused("fabric.escrow.nr-tags=40000", "nrTags", "must be between 1 and 32768");
    }

    @Test
    void negativeUidsAreRefused() {
        assertRefused("fabric.escrow.allowed-uids=-1", "allowedUids", "greater than or equal to 0");
    }

    private void assertRefused(String property, String field, String reason) {
        runner.withPropertyValues(property).run(context -> {
            assertThat(context).hasFailed();
            Throwable failure = context.getStartupFailure();
            StringBuilder messages = new StringBuilder();
            for (Throwable t = failure; t != null; t = t.getCause()) {
                messages.append(t.getMessage()).append('\n');
            }
            assertThat(messages.toString()).contains("fabric.escrow").contains(field).contains(reason);
        });
    }
}
