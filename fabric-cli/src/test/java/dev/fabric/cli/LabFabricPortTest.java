package dev.fabric.cli;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A lab test's fixed ports lie below the lab's ephemeral range: a readiness probe on the server's own host once
 * connected to itself on the registry's port 45070 before the registry bound it, and the class failed at its start.
 */
class LabFabricPortTest {

    @Test
    void aPortInTheEphemeralRangeIsRefusedWithTheRangeAndTheWayOut() {
        for (int port : new int[] {45070, LabFabric.EPHEMERAL_LOW, LabFabric.EPHEMERAL_HIGH}) {
            assertThatThrownBy(() -> LabFabric.fixedPort(port)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("port " + port + " lies in the lab's ephemeral range 32768-60999, where a probe can take it"
                            + " before the service binds it: choose one below 32768");
        }
    }

    @Test
    void aPortOutsideItIsTheTestsToUse() {
        assertThat(LabFabric.fixedPort(19070)).isEqualTo(19070);
        assertThat(LabFabric.fixedPort(LabFabric.EPHEMERAL_LOW - 1)).isEqualTo(32767);
        assertThat(LabFabric.fixedPort(LabFabric.EPHEMERAL_HIGH + 1)).isEqualTo(61000);
    }
}
