package dev.fabric.spawner.spawn;

import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.registry.ServiceInstance;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Who supervises a member, and what happens to the members of a supervisor that is gone: the
 * decisions alone, carried out by {@link Supervisor} and {@link SpawnService}.
 *
 * <p>A member's supervisor is the node that spawned it (its {@code parentId}, the root spawner or a
 * member) until another node adopts it; the adopter is then recorded in its metadata
 * {@code supervisor}, kept across its restarts, so exactly one node supervises it (restarts it,
 * stops it, re-adopts it after its own restart). Whoever starts an incarnation supervises it. The
 * registry records each change of supervisor in the member's history.
 *
 * <pre>
 *   the supervisor is DEAD (killed, hung) ......................... nothing: its own supervisor restarts it under its id,
 *                                                                   and the new incarnation re-adopts its members
 *   the supervisor is STOPPED and stopped its members with it ..... its own supervisor (the grandparent) finishes that stop:
 *     (stop-members-on-shutdown)
 *     a member not ended (one that outlived its supervisor's stop) Stop for good (its process, if any, stopped first)
 *     a member STOPPED, FAILED or LOST ........................... Leave
 *   the supervisor is STOPPED, FAILED or LOST (gone for good) ..... its own supervisor (the grandparent) adopts them:
 *     a member RUNNING ........................................... Take (its process is watched from now on)
 *     a member DEAD, PENDING or BOOTSTRAPPING .................... Restart under its id (it or its handshake died)
 *     a member SUSPECT ........................................... Wait (the next round sees it RUNNING or DEAD)
 *     a member STOPPED, FAILED or LOST ........................... Leave (nothing to supervise)
 *   a supervisor that comes back after its members were adopted ... leaves them with the adopter
 * </pre>
 *
 * <p>With {@code stop-members-on-shutdown} (every node of a {@code ./fabric up} fabric inherits it) a node that stops
 * for good stops its members first, so its STOPPED means theirs. A member that outlived that stop (its node was killed
 * at the end of its own stop grace before it had recorded the member STOPPED, so the registry shows it DEAD, or still
 * RUNNING) was meant to stop too: restarting it, as after {@code ./fabric down} and {@code up} an agent was restarted for
 * a pilot whose manager was STOPPED, would undo the stop. A FAILED or LOST node stopped nothing: its members are kept
 * alive by the adopter. So that an ordinary stop leaves nothing for an adopter to finish, a node that stops
 * its members is given their grace on top of its own ({@link #stopGrace}).
 */
public final class Supervision {

    /** Metadata key naming the node that adopted a member, when that is not its parent ({@link ServiceInstance#SUPERVISOR}). */
    public static final String SUPERVISOR = ServiceInstance.SUPERVISOR;

    private Supervision() {}

    /** The node that supervises {@code instance}: its adopter, else its parent. */
    public static String supervisorOf(ServiceInstance instance) {
        return ServiceInstance.supervisorOf(instance);
    }

    /** The instances {@code node} supervises, out of {@code all}. */
    public static List<ServiceInstance> supervisedBy(String node, List<ServiceInstance> all) {
        return all.stream().filter(i -> node.equals(supervisorOf(i))).toList();
    }

    /** Whether a supervisor in this state will not come back by itself (nobody restarts it): its members need an adopter. */
    public static boolean goneForGood(InstanceState state) {
        return state == InstanceState.STOPPED || state == InstanceState.FAILED || state == InstanceState.LOST;
    }

    /**
     * The grace to give {@code member} when stopping it: {@code grace} for its own stop, and when it stops its members
     * first ({@code membersStopWithTheirNode}), one more {@code grace} for each level of members below it that are not
     * ended, which it stops within the same grace it is given each. Otherwise its node kills it while its last members
     * are still stopping, and they are left DEAD or running.
     */
    public static Duration stopGrace(Duration grace, String member, List<ServiceInstance> all, boolean membersStopWithTheirNode) {
        return membersStopWithTheirNode ? grace.multipliedBy(1 + levelsBelow(member, all, new HashSet<>())) : grace;
    }

    /** The levels of members not ended that {@code node} supervises, through theirs: 0 for a node without any. */
    private static int levelsBelow(String node, List<ServiceInstance> all, Set<String> seen) {
        if (!seen.add(node)) {
            return 0; // a cycle in a damaged registry must not loop
        }
        int levels = 0;
        for (ServiceInstance member : supervisedBy(node, all)) {
            if (!goneForGood(member.state())) {
                levels = Math.max(levels, 1 + levelsBelow(member.id(), all, seen));
            }
        }
        return levels;
    }

    /** The metadata that records {@code supervisor} for a member whose parent is {@code parentId}: none when they are the same. */
    static Map<String, String> recorded(String supervisor, String parentId) {
        return supervisor.equals(parentId) ? Map.of() : Map.of(SUPERVISOR, supervisor);
    }

    /** What an adopter does with one member of a supervisor that is gone for good. */
    public sealed interface Adoption {

        /** Watch its running process from now on. */
        record Take(String reason) implements Adoption {}

        /** Start it again under its id: it, or its bootstrap, died with its supervisor. */
        record Restart(String reason) implements Adoption {}

        /** Not now: it is SUSPECT, and the next round sees it RUNNING or DEAD. */
        record Wait() implements Adoption {}

        /** Nothing to supervise: it ended for good too. */
        record Leave() implements Adoption {}

        /** Stop it for good (its process, if one is left, first): its supervisor stopped with its members, and it outlived that stop. */
        record Stop(String reason) implements Adoption {}
    }

    /**
     * The decision for {@code orphan}, a member of {@code gone} (which is gone for good), to be adopted by {@code adopter}.
     *
     * @param membersStopWithTheirNode whether a node that stops stops its members first ({@code stop-members-on-shutdown},
     *                                 which every node of a fabric inherits from its root spawner)
     */
    public static Adoption adopt(ServiceInstance orphan, ServiceInstance gone, String adopter, boolean membersStopWithTheirNode) {
        if (membersStopWithTheirNode && gone.state() == InstanceState.STOPPED) {
            return switch (orphan.state()) {
                case RUNNING, SUSPECT, DEAD, PENDING, BOOTSTRAPPING -> new Adoption.Stop("stopped with its supervisor " + gone.id()
                        + ", which is STOPPED and stops its members with it (it was " + orphan.state() + "; stopped by " + adopter + ")");
                case STOPPED, FAILED, LOST -> new Adoption.Leave();
            };
        }
        String reason = "adopted by " + adopter + ": its supervisor " + gone.id() + " is " + gone.state();
        return switch (orphan.state()) {
            case RUNNING -> new Adoption.Take(reason);
            case DEAD, PENDING, BOOTSTRAPPING -> new Adoption.Restart(reason + " (and it was " + orphan.state() + ")");
            case SUSPECT -> new Adoption.Wait();
            case STOPPED, FAILED, LOST -> new Adoption.Leave();
        };
    }
}
