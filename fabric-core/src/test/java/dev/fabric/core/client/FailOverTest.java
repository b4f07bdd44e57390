package dev.fabric.core.client;

import dev.fabric.core.registry.Connectivity;
import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.registry.ServiceInstance;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.web.client.HttpClientErrorException;
import org.springframework.web.client.HttpServerErrorException;
import org.springframework.web.client.ResourceAccessException;
import org.springframework.web.client.RestClient;

import java.net.ServerSocket;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static dev.fabric.core.registry.InstanceState.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchRuntimeException;

/** The calling entity's decisions when a member fails, from the registry's view of it (docs/spawner.md, "Fail-over"). */
class FailOverTest {

    private static final String OLD_URL = "http://127.0.0.1:9001";

    private static ServiceInstance member(InstanceState state, long incarnation, String managementUrl) {
        return new ServiceInstance("queue-1", "queue", null, state, state + " for a reason", incarnation, "spawner-1",
                Connectivity.DIRECT, managementUrl == null ? Map.of() : Map.of("management", managementUrl), Map.of(),
                Instant.EPOCH, Instant.EPOCH, null);
    }

    private final ServiceInstance called = member(RUNNING, 1, OLD_URL);

    @Test
    void aMemberRunningAtANewAddressIsCalledThere() {
        ServiceInstance moved = member(RUNNING, 1, "http://127.0.0.1:9002");
        assertThat(FailOver.afterFailure(called, "management", moved)).isEqualTo(new FailOver.Call(moved));
    }

    @Test
    void aNewerIncarnationRunningIsCalledEvenAtTheSameAddress() {
        ServiceInstance restarted = member(RUNNING, 2, OLD_URL);
        assertThat(FailOver.afterFailure(called, "management", restarted)).isEqualTo(new FailOver.Call(restarted));
    }

    @Test
    void aMemberTheRegistryStillThinksAliveIsReportedThenRestarted() {
        assertThat(FailOver.afterFailure(called, "management", member(RUNNING, 1, OLD_URL))).isEqualTo(new FailOver.Restart(true));
        assertThat(FailOver.afterFailure(called, "management", member(SUSPECT, 1, OLD_URL))).isEqualTo(new FailOver.Restart(true));
    }

    @ParameterizedTest
    @EnumSource(value = InstanceState.class, names = {"DEAD", "FAILED"})
    void aDeadOrFailedMemberIsRestartedWithoutAReport(InstanceState state) {
        assertThat(FailOver.afterFailure(called, "management", member(state, 1, OLD_URL))).isEqualTo(new FailOver.Restart(false));
        assertThat(FailOver.beforeCall(member(state, 1, OLD_URL))).isEqualTo(new FailOver.Restart(false));
    }

    @ParameterizedTest
    @EnumSource(value = InstanceState.class, names = {"PENDING", "BOOTSTRAPPING"})
    void aRestartUnderWayIsAwaitedNotRepeated(InstanceState state) {
        assertThat(FailOver.afterFailure(called, "management", member(state, 2, null))).isEqualTo(new FailOver.AwaitRunning(2));
        assertThat(FailOver.beforeCall(member(state, 3, null))).isEqualTo(new FailOver.AwaitRunning(3));
    }

    @Test
    void lostAndStoppedAreFinalAndCarryTheRegistrysReason() {
        assertThat(FailOver.afterFailure(called, "management", member(LOST, 2, null))).isEqualTo(new FailOver.Lost("LOST for a reason"));
        assertThat(FailOver.beforeCall(member(LOST, 2, null))).isEqualTo(new FailOver.Lost("LOST for a reason"));
        assertThat(FailOver.afterFailure(called, "management", member(STOPPED, 1, OLD_URL))).isEqualTo(new FailOver.Stopped("STOPPED for a reason"));
        assertThat(FailOver.beforeCall(member(STOPPED, 1, OLD_URL))).isEqualTo(new FailOver.Stopped("STOPPED for a reason"));
    }

    @ParameterizedTest
    @EnumSource(value = InstanceState.class, names = {"RUNNING", "SUSPECT"})
    void aLiveLookingMemberIsCalledFirst(InstanceState state) {
        ServiceInstance live = member(state, 1, OLD_URL);
        assertThat(FailOver.beforeCall(live)).isEqualTo(new FailOver.Call(live));
    }

    @Test
    void everyStateHasADecision() {
        for (InstanceState state : InstanceState.values()) {
            assertThat(FailOver.beforeCall(member(state, 1, OLD_URL))).as("before a call, %s", state).isNotNull();
            assertThat(FailOver.afterFailure(called, "management", member(state, 1, OLD_URL))).as("after a failure, %s", state).isNotNull();
            assertThat(FailOver.whileWaiting(member(state, 2, OLD_URL), 2)).as("waiting, %s", state).isNotNull();
        }
    }

    @Test
    void theWaitEndsOnlyWhenTheNewIncarnationRuns() {
        assertThat(FailOver.whileWaiting(member(RUNNING, 1, OLD_URL), 2)).isEqualTo(new FailOver.KeepWaiting());
        assertThat(FailOver.whileWaiting(member(PENDING, 2, null), 2)).isEqualTo(new FailOver.KeepWaiting());
        assertThat(FailOver.whileWaiting(member(BOOTSTRAPPING, 2, null), 2)).isEqualTo(new FailOver.KeepWaiting());
        // A new incarnation that died is restarted again by its spawner.
        assertThat(FailOver.whileWaiting(member(DEAD, 2, OLD_URL), 2)).isEqualTo(new FailOver.KeepWaiting());
        ServiceInstance running = member(RUNNING, 3, "http://127.0.0.1:9003");
        assertThat(FailOver.whileWaiting(running, 2)).isEqualTo(new FailOver.Ready(running));
    }

    @Test
    void aRestartThatIsLostOrStoppedEndsTheWaitAndOneThatFailedMayYetBeLost() {
        // FAILED may yet become LOST (its spawner decides once the process has ended): not an end by itself.
        assertThat(FailOver.whileWaiting(member(FAILED, 2, null), 2)).isEqualTo(new FailOver.Failing("FAILED for a reason"));
        assertThat(FailOver.whileWaiting(member(LOST, 2, null), 2)).isEqualTo(new FailOver.Ended(new FailOver.Lost("LOST for a reason"), "LOST for a reason"));
        assertThat(FailOver.whileWaiting(member(STOPPED, 2, null), 2)).isEqualTo(new FailOver.Ended(new FailOver.Stopped("STOPPED for a reason"), "STOPPED for a reason"));
        // The old incarnation's FAILED is not the new one's.
        assertThat(FailOver.whileWaiting(member(FAILED, 1, null), 2)).isEqualTo(new FailOver.KeepWaiting());
    }

    @Test
    void aClosedPortIsUnreachable() throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        RuntimeException refused = catchRuntimeException(() -> RestClient.create().get().uri("http://127.0.0.1:" + port + "/").retrieve()
                .toBodilessEntity());
        assertThat(refused).isInstanceOf(ResourceAccessException.class);
        assertThat(FailOver.unreachable(refused)).isTrue();
        assertThat(FabricClient.describe(refused)).isEqualTo("connection refused");
    }

    @ParameterizedTest
    @ValueSource(ints = {502, 503, 504})
    void aGatewaysErrorCountsAsUnreachable(int status) {
        assertThat(FailOver.unreachable(HttpServerErrorException.create(HttpStatus.valueOf(status), "gateway", HttpHeaders.EMPTY, null, null))).isTrue();
    }

    @Test
    void aMembersOwnAnswerIsTheCallersToHandle() {
        assertThat(FailOver.unreachable(HttpServerErrorException.create(HttpStatus.INTERNAL_SERVER_ERROR, "bug", HttpHeaders.EMPTY, null, null))).isFalse();
        assertThat(FailOver.unreachable(HttpClientErrorException.create(HttpStatus.NOT_FOUND, "no", HttpHeaders.EMPTY, null, null))).isFalse();
        assertThat(FailOver.unreachable(new IllegalStateException("the caller's own bug"))).isFalse();
    }

    @Test
    void aBridgeOrAMemberAtItsLimitIsNoSignThatTheMemberIsDown() {
        byte[] full = ("{\"type\":\"urn:fabric:problem:bridge-full\",\"status\":503,\"reason\":\"bridge-full\","
                + "\"detail\":\"bridge br-1 relays its limit of 256 exchanges at once\"}").getBytes(java.nio.charset.StandardCharsets.UTF_8);
        assertThat(FailOver.unreachable(HttpServerErrorException.create(HttpStatus.SERVICE_UNAVAILABLE, "full", HttpHeaders.EMPTY, full, null)))
                .isFalse();
        // A live member at one of its own limits is no more down than the bridge: a restart would cut off what it serves.
        for (String busy : List.of("too-many-subscribers", "too-many-splices", "too-many-watches")) {
            byte[] answer = ("{\"status\":503,\"reason\":\"" + busy + "\"}").getBytes(java.nio.charset.StandardCharsets.UTF_8);
            assertThat(FailOver.unreachable(HttpServerErrorException.create(HttpStatus.SERVICE_UNAVAILABLE, busy, HttpHeaders.EMPTY, answer,
                    null))).as(busy).isFalse();
        }
        byte[] noRoute = "{\"status\":502,\"reason\":\"bridge-no-route\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        assertThat(FailOver.unreachable(HttpServerErrorException.create(HttpStatus.BAD_GATEWAY, "no route", HttpHeaders.EMPTY, noRoute, null)))
                .as("a member whose channel is closed may be down").isTrue();
    }
}
