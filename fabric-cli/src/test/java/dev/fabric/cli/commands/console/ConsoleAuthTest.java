package dev.fabric.cli.commands.console;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Who may use a console, decided without HTTP. */
class ConsoleAuthTest {

    @Test
    void theLoginTokenOpensOneSessionOnce() {
        ConsoleAuth auth = new ConsoleAuth();
        String token = auth.loginToken();
        assertThat(token).hasSize(43); // 256 bits, base64url
        ConsoleAuth.Session session = auth.login(token).orElseThrow();
        assertThat(auth.loginToken()).as("spent").isNull();
        assertThat(auth.login(token)).as("a second use").isEmpty();
        assertThat(auth.session(List.of("a=b; " + ConsoleAuth.COOKIE + "=" + session.id()))).contains(session);
        assertThat(ConsoleAuth.cookie(session)).contains("HttpOnly", "SameSite=Strict").doesNotContain(session.actionToken());
    }

    @Test
    void anotherConsolesTokenAndCookieAreUnknown() {
        ConsoleAuth older = new ConsoleAuth();
        ConsoleAuth.Session olderSession = older.login(older.loginToken()).orElseThrow();
        ConsoleAuth auth = new ConsoleAuth();
        assertThat(auth.login(older.loginToken())).isEmpty();
        assertThat(auth.login("")).isEmpty();
        assertThat(auth.login(null)).isEmpty();
        assertThat(auth.session(List.of(ConsoleAuth.COOKIE + "=" + olderSession.id()))).isEmpty();
        assertThat(auth.session(null)).isEmpty();
    }

    @Test
    void actionsNeedTheSessionsValueAndTheConsolesOrigin() {
        ConsoleAuth auth = new ConsoleAuth();
        ConsoleAuth.Session session = auth.login(auth.loginToken()).orElseThrow();
        String host = "127.0.0.1:8474";
        assertThat(ConsoleAuth.actionAllowed(session, session.actionToken(), "http://127.0.0.1:8474", host)).isTrue();
        assertThat(ConsoleAuth.actionAllowed(session, session.actionToken(), null, host)).isTrue();
        assertThat(ConsoleAuth.actionAllowed(session, null, "http://127.0.0.1:8474", host)).isFalse();
        assertThat(ConsoleAuth.actionAllowed(session, session.id(), "http://127.0.0.1:8474", host)).isFalse();
        assertThat(ConsoleAuth.actionAllowed(session, session.actionToken(), "http://evil.example", host)).isFalse();
        assertThat(ConsoleAuth.actionAllowed(session, session.actionToken(), "null", host)).isFalse();
        assertThat(ConsoleAuth.actionAllowed(session, session.actionToken(), "https://127.0.0.1:8474", host)).isFalse();
    }

    @Test
    void onlyTheConsolesOwnHostNamesAreServed() {
        assertThat(ConsoleAuth.hostAllowed("127.0.0.1:8474", "127.0.0.1", 8474)).isTrue();
        assertThat(ConsoleAuth.hostAllowed("localhost:8474", "127.0.0.1", 8474)).isTrue();
        assertThat(ConsoleAuth.hostAllowed("[::1]:8474", "127.0.0.1", 8474)).isTrue();
        assertThat(ConsoleAuth.hostAllowed("10.0.0.5:8474", "10.0.0.5", 8474)).isTrue();
        assertThat(ConsoleAuth.hostAllowed("rebound.example:8474", "127.0.0.1", 8474)).isFalse();
        assertThat(ConsoleAuth.hostAllowed("127.0.0.1:9999", "127.0.0.1", 8474)).isFalse();
        assertThat(ConsoleAuth.hostAllowed(null, "127.0.0.1", 8474)).isFalse();
    }
}
