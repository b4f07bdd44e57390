package dev.fabric.spawner.role.bridge;

import dev.fabric.spawner.member.MemberKeys;
import dev.fabric.spawner.member.MemberNode;
import org.junit.jupiter.api.Test;

import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;

/** What the relay filter costs a member that is no bridge: it is in every member's filter chain. */
class BridgeRelayTest {

    @Test
    void aRelayThatNeverRelaysMakesNoHttpClient() {
        Set<String> before = clientThreads();

        new BridgeRelay(mock(BridgeRole.class), mock(BridgeChannels.class), mock(MemberNode.class), mock(MemberKeys.class));

        // A JDK HTTP client starts its selector thread, and reads the JDK's default TLS context, when it is made.
        assertThat(clientThreads()).isEqualTo(before);
    }

    private static Set<String> clientThreads() {
        return Thread.getAllStackTraces().keySet().stream().map(Thread::getName).filter(name -> name.startsWith("HttpClient-"))
                .collect(Collectors.toSet());
    }
}
