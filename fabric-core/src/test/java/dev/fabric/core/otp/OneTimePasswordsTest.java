package dev.fabric.core.otp;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.fabric.testsupport.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.Base64;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class OneTimePasswordsTest {

    final MutableClock clock = new MutableClock(Instant.parse("2026-11-21T12:00:00Z"));
    final OneTimePasswords otps = new OneTimePasswords(clock);
    final ListAppender<ILoggingEvent> logs = new ListAppender<>();
    final Logger logger = (Logger) LoggerFactory.getLogger("dev.fabric");

    @BeforeEach
    void captureLogs() {
        logger.setLevel(Level.TRACE);
        logs.start();
        logger.addAppender(logs);
    }

    @AfterEach
    void releaseLogs() {
        logger.detachAppender(logs);
        logger.setLevel(null);
    }

    void assertRefused(String serviceId, String presented, OtpRejectedException.Reason reason) {
        assertThatThrownBy(() -> otps.redeem(serviceId, presented))
                .isInstanceOfSatisfying(OtpRejectedException.class, e -> {
                    assertThat(e.reason()).isEqualTo(reason);
                    assertThat(e.serviceId()).isEqualTo(serviceId);
                });
    }

    @Test
    void passwordIs256RandomBitsInBase64Url() {
        OneTimePassword otp = otps.issue("svc-1", Duration.ofMinutes(1));
        assertThat(otp.reveal()).hasSize(43).matches("[A-Za-z0-9_-]+");
        assertThat(Base64.getUrlDecoder().decode(otp.reveal())).hasSize(32);
        assertThat(otps.issue("svc-2", Duration.ofMinutes(1)).reveal()).isNotEqualTo(otp.reveal());
    }

    @Test
    void redeemsOnceThenRefusesAsUsed() {
        OneTimePassword otp = otps.issue("svc-1", Duration.ofMinutes(1));
        otps.redeem("svc-1", otp.reveal());
        assertThat(otps.isOutstanding("svc-1")).isFalse();
        assertRefused("svc-1", otp.reveal(), OtpRejectedException.Reason.USED);
    }

    @Test
    void expiredPasswordIsRefused() {
        OneTimePassword otp = otps.issue("svc-1", Duration.ofSeconds(30));
        clock.advance(Duration.ofSeconds(31));
        assertRefused("svc-1", otp.reveal(), OtpRejectedException.Reason.EXPIRED);
        // ...and is gone afterwards.
        assertRefused("svc-1", otp.reveal(), OtpRejectedException.Reason.UNKNOWN);
    }

    @Test
    void wrongPasswordIsRefusedAndBurnsTheRealOne() {
        OneTimePassword otp = otps.issue("svc-1", Duration.ofMinutes(1));
        assertRefused("svc-1", "x".repeat(43), OtpRejectedException.Reason.WRONG);
        assertRefused("svc-1", otp.reveal(), OtpRejectedException.Reason.USED);
    }

    @Test
    void passwordOfAnotherServiceIsRefused() {
        OneTimePassword forA = otps.issue("svc-a", Duration.ofMinutes(1));
        otps.issue("svc-b", Duration.ofMinutes(1));
        assertRefused("svc-b", forA.reveal(), OtpRejectedException.Reason.WRONG);
        assertRefused("svc-c", forA.reveal(), OtpRejectedException.Reason.UNKNOWN);
    }

    @Test
    void discardedPasswordIsUnknown() {
        OneTimePassword otp = otps.issue("svc-1", Duration.ofMinutes(1));
        otps.discard("svc-1");
        assertRefused("svc-1", otp.reveal(), OtpRejectedException.Reason.UNKNOWN);
    }

    @Test
    void nullPasswordIsWrongNotACrash() {
        otps.issue("svc-1", Duration.ofMinutes(1));
        assertRefused("svc-1", null, OtpRejectedException.Reason.WRONG);
    }

    @Test
    void theSecretNeverReachesTheLogsNorToString() {
        OneTimePassword otp = otps.issue("svc-1", Duration.ofMinutes(1));
        otps.redeem("svc-1", otp.reveal());
        OneTimePassword second = otps.issue("svc-2", Duration.ofSeconds(1));
        assertThatThrownBy(() -> otps.redeem("svc-2", otp.reveal())).isInstanceOf(OtpRejectedException.class);
        clock.advance(Duration.ofSeconds(2));
        assertThatThrownBy(() -> otps.redeem("svc-2", second.reveal()))
                .isInstanceOf(OtpRejectedException.class)
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain(second.reveal()));

        assertThat(logs.list).isNotEmpty();
        for (ILoggingEvent event : logs.list) {
            assertThat(event.getFormattedMessage()).doesNotContain(otp.reveal()).doesNotContain(second.reveal());
        }
        assertThat(otp.toString()).doesNotContain(otp.reveal());
        assertThat(String.valueOf(otp)).isEqualTo("OneTimePassword[****]");
    }
}
