package dev.fabric.testsupport;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Marks a test class that needs the {@link NetworkLab}: root, network namespaces, {@code ip},
 * {@code iptables} and an OpenSSH server ({@code ./fabric rig} installs them).
 *
 * <p>Where they are present the class runs, and any {@code @BeforeAll}, {@code @BeforeEach} or test
 * method that declares a {@link NetworkLab} parameter gets the class's lab: started once for the
 * class, on first use, and removed after the class, also when a test fails. Where something is
 * missing the class is skipped with a message naming it, unless {@code FABRIC_REQUIRE_NETLAB} is
 * {@code 1}: then it fails, so CI never passes by skipping the lab's tests.
 *
 * <pre>{@code
 * @RequiresNetworkLab
 * class CrossHostIT {
 *     @Test
 *     void gatewayReachesHead(NetworkLab lab) {
 *         assertThat(lab.probe(Host.GATEWAY, Host.HEAD, 22)).isEqualTo(Reach.OPEN);
 *     }
 * }
 * }</pre>
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.METHOD})
@ExtendWith(RequiresNetworkLabExtension.class)
public @interface RequiresNetworkLab {
}
