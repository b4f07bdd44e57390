package dev.fabric.core.problem;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class ProblemTest {

    static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void aFabricProblemIsReadWithItsReasonTypeAndDetail() {
        Problem problem = Problem.decode(404, "Not Found", bytes("""
                {"type":"urn:fabric:problem:unknown-instance","title":"Not Found","status":404,
                 "detail":"no instance with id 'q-1' is registered","reason":"unknown-instance"}"""), "the registry");
        assertThat(problem.hasReason()).isTrue();
        assertThat(problem.is("unknown-instance")).isTrue();
        assertThat(problem.type()).isEqualTo(Problem.typeOf("unknown-instance"));
        assertThat(problem.title()).isEqualTo("Not Found");
        assertThat(problem.message()).isEqualTo("no instance with id 'q-1' is registered (unknown-instance, HTTP 404)");
    }

    @Test
    void aProblemWithoutReasonOrDetailFallsBackToItsTitle() {
        Problem problem = Problem.decode(400, "", bytes("{\"title\":\"Bad Request\",\"status\":400}"), "the spawner");
        assertThat(problem.hasReason()).isFalse();
        assertThat(problem.message()).isEqualTo("Bad Request (HTTP 400)");
    }

    @Test
    void aProxysHtmlPageOrAnEmptyBodySaysWhoAnswered() {
        assertThat(Problem.decode(502, "Bad Gateway", bytes("<html><body>nginx</body></html>"), "the registry").message())
                .isEqualTo("the registry answered 502 Bad Gateway (HTTP 502)");
        assertThat(Problem.decode(503, null, null, "member queue-1").detail()).isEqualTo("member queue-1 answered 503");
    }

    @Test
    void plainTextIsShownByItsFirstLineAndCut() {
        Problem problem = Problem.decode(500, "Server Error", bytes("x".repeat(5000) + "\nsecond line"), "the spawner");
        assertThat(problem.detail()).hasSize(Problem.MAX_DETAIL + 3).endsWith("...");
        assertThat(Problem.decode(400, "", bytes("{not json"), "the spawner").detail()).isEqualTo("{not json");
    }
}
