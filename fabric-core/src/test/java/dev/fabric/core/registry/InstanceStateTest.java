package dev.fabric.core.registry;

import org.junit.jupiter.api.Test;

import java.util.EnumSet;

import static dev.fabric.core.registry.InstanceState.*;
import static org.assertj.core.api.Assertions.assertThat;

class InstanceStateTest {

    @Test
    void legalTransitionsFollowTheLifeOfAMember() {
        assertThat(EnumSet.allOf(InstanceState.class).stream().filter(PENDING::canMoveTo)).containsExactlyInAnyOrder(BOOTSTRAPPING, RUNNING, FAILED, STOPPED);
        assertThat(EnumSet.allOf(InstanceState.class).stream().filter(BOOTSTRAPPING::canMoveTo)).containsExactlyInAnyOrder(RUNNING, FAILED, STOPPED);
        assertThat(EnumSet.allOf(InstanceState.class).stream().filter(RUNNING::canMoveTo)).containsExactlyInAnyOrder(SUSPECT, DEAD, FAILED, STOPPED);
        assertThat(EnumSet.allOf(InstanceState.class).stream().filter(SUSPECT::canMoveTo)).containsExactlyInAnyOrder(RUNNING, DEAD, FAILED, STOPPED);
        assertThat(EnumSet.allOf(InstanceState.class).stream().filter(DEAD::canMoveTo)).containsExactlyInAnyOrder(LOST, FAILED, STOPPED);
        assertThat(EnumSet.allOf(InstanceState.class).stream().filter(FAILED::canMoveTo)).containsExactlyInAnyOrder(LOST, STOPPED);
    }

    @Test
    void lostAndStoppedAreFinal() {
        for (InstanceState to : InstanceState.values()) {
            assertThat(LOST.canMoveTo(to)).isFalse();
            assertThat(STOPPED.canMoveTo(to)).isFalse();
        }
    }

    @Test
    void everythingButLostMayRestartUnderItsId() {
        assertThat(EnumSet.allOf(InstanceState.class).stream().filter(s -> !s.canRestart())).containsExactly(LOST);
    }

    @Test
    void noStateMovesToItself() {
        for (InstanceState state : InstanceState.values()) {
            assertThat(state.canMoveTo(state)).isFalse();
        }
    }
}
