package dev.fabric.spawner.spawn;

import dev.fabric.spawner.contract.SpawningNode;
import org.junit.jupiter.api.Test;
import org.mockito.InOrder;
import org.springframework.beans.factory.support.StaticListableBeanFactory;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.mockito.Mockito.inOrder;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

/**
 * A member node that shuts down with {@code stop-members-on-shutdown} (every member of a {@code ./fabric up}
 * fabric inherits it) tells its role before it stops its members: a pilot manager's rounds went on while its
 * agents were being stopped, so it spawned replacements during the shutdown, failed the pilot when its queue
 * stopped, and outlasted its own stop grace with a member still running.
 */
class SupervisorStopTest {

    final SpawningNode node = mock(SpawningNode.class);
    final SpawnService spawner = mock(SpawnService.class);

    @Test
    void aMemberTellsItsRoleBeforeItStopsItsMembers() {
        Supervisor supervisor = runningMemberNode(true);

        supervisor.stop();

        InOrder order = inOrder(node, spawner);
        order.verify(node).membersStopping();
        order.verify(spawner).stopAll();
    }

    @Test
    void aMemberThatLeavesItsMembersRunningLeavesItsRoleAlone() {
        Supervisor supervisor = runningMemberNode(false);

        supervisor.stop();

        verify(node, never()).membersStopping();
        verify(spawner, never()).stopAll();
    }

    /** A member node that is RUNNING and has taken its members back (none), as before any shutdown. */
    Supervisor runningMemberNode(boolean stopMembersOnShutdown) {
        when(node.running()).thenReturn(true);
        when(spawner.members()).thenReturn(List.of());
        SpawnerProperties properties = new SpawnerProperties("member-1", Path.of("unused"), "", "", "process", List.of("queue"),
                Duration.ofSeconds(60), Duration.ofSeconds(60), Duration.ofSeconds(10), 5, Duration.ofMinutes(5), Duration.ofSeconds(2),
                stopMembersOnShutdown, new SpawnerProperties.Process("", "", List.of(), 0));
        StaticListableBeanFactory beans = new StaticListableBeanFactory();
        beans.addBean("spawnService", spawner);
        beans.addBean("memberNode", node);
        Supervisor supervisor = new Supervisor(beans.getBeanProvider(SpawnService.class), new SpawnGate(beans.getBeanProvider(SpawningNode.class)),
                properties);
        supervisor.start();
        supervisor.ready();
        return supervisor;
    }
}
