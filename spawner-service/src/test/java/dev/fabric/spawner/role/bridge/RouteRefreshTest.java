package dev.fabric.spawner.role.bridge;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** When a bridge reads its routes again for an authority they do not know. */
class RouteRefreshTest {

    static final long SECOND = Duration.ofSeconds(1).toNanos();

    final RouteRefresh refresh = new RouteRefresh(Duration.ofSeconds(1));

    @Test
    void aMemberThatRegisteredJustAfterTheLastReadIsLookedUpOnItsFirstRequest() {
        // Another authority missed a moment ago: that says nothing of this one, which is read for at once.
        refresh.missed("127.0.0.1:46819", 0);
        assertThat(refresh.readAgain("127.0.0.1:35259", 1)).isTrue();
    }

    @Test
    void anAuthorityMissedIsReadForAgainOnlyAfterTheInterval() {
        refresh.missed("compute-2:19195", 0);
        assertThat(refresh.readAgain("compute-2:19195", SECOND / 20)).as("asked again 50 ms later").isFalse();
        assertThat(refresh.readAgain("compute-2:19195", SECOND)).isTrue();
    }

    @Test
    void anAuthorityFoundIsNoLongerMissed() {
        refresh.missed("compute-2:19195", 0);
        refresh.found("compute-2:19195");
        assertThat(refresh.readAgain("compute-2:19195", 1)).isTrue();
    }

    @Test
    void tooManyMissedAuthoritiesAreForgottenNotKeptForever() {
        for (int i = 0; i < RouteRefresh.MAX_MISSED; i++) {
            refresh.missed("10.0.0.1:" + i, 0);
        }
        refresh.missed("10.0.0.2:1", 0);
        assertThat(refresh.readAgain("10.0.0.1:0", 1)).isTrue();
        assertThat(refresh.readAgain("10.0.0.2:1", 1)).isFalse();
    }
}
