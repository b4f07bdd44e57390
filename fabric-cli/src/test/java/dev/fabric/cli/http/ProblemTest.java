package dev.fabric.cli.http;

import dev.fabric.cli.common.ExitCodes;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

import java.net.ConnectException;
import java.net.http.HttpConnectTimeoutException;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class ProblemTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private static Problem decode(int status, String body) {
        return Problem.decode(status, "", body.getBytes(StandardCharsets.UTF_8), JSON);
    }

    @Test
    void aRegistryProblemKeepsItsReasonAndDetail() {
        Problem problem = decode(404, """
                {"type":"urn:fabric:problem:unknown-instance","title":"Not Found","status":404,
                 "detail":"no instance with id 'x' is registered","instance":"/api/v1/instances/x","reason":"unknown-instance"}""");
        assertThat(problem).isEqualTo(new Problem(404, "unknown-instance", "no instance with id 'x' is registered"));
        assertThat(problem.message()).isEqualTo("no instance with id 'x' is registered (unknown-instance, HTTP 404)");
    }

    @Test
    void aSignatureRejectionIsDecodedToo() {
        Problem problem = decode(401, """
                {"type":"urn:fabric:problem:unknown-key","title":"Unauthorized","status":401,
                 "detail":"keyid 'abc' is not trusted","reason":"unknown-key"}""");
        assertThat(problem.message()).isEqualTo("keyid 'abc' is not trusted (unknown-key, HTTP 401)");
    }

    @Test
    void aProblemWithoutDetailUsesItsTitleAndOneWithoutReasonItsStatus() {
        assertThat(decode(500, "{\"title\":\"Internal Server Error\",\"status\":500}"))
                .isEqualTo(new Problem(500, "http-500", "Internal Server Error"));
    }

    @Test
    void anythingElseStillReadsWell() {
        assertThat(Problem.decode(502, "Bad Gateway", "<html><body>nginx</body></html>".getBytes(StandardCharsets.UTF_8), JSON))
                .isEqualTo(new Problem(502, "http-502", "the registry answered 502 Bad Gateway"));
        assertThat(Problem.decode(503, "", new byte[0], JSON)).isEqualTo(new Problem(503, "http-503", "the registry answered 503"));
        assertThat(decode(400, "bad things\nmore")).isEqualTo(new Problem(400, "http-400", "bad things"));
        assertThat(decode(400, "{not json")).isEqualTo(new Problem(400, "http-400", "{not json"));
    }

    @Test
    void everyClassOfStatusHasItsExitCode() {
        assertThat(ExitCodes.forStatus(400)).isEqualTo(ExitCodes.USAGE);
        assertThat(ExitCodes.forStatus(413)).isEqualTo(ExitCodes.USAGE);
        assertThat(ExitCodes.forStatus(404)).isEqualTo(ExitCodes.NOT_FOUND);
        assertThat(ExitCodes.forStatus(401)).isEqualTo(ExitCodes.REFUSED);
        assertThat(ExitCodes.forStatus(403)).isEqualTo(ExitCodes.REFUSED);
        assertThat(ExitCodes.forStatus(409)).isEqualTo(ExitCodes.CONFLICT);
        assertThat(ExitCodes.forStatus(410)).isEqualTo(ExitCodes.CONFLICT);
        assertThat(ExitCodes.forStatus(500)).isEqualTo(ExitCodes.SERVER_ERROR);
        assertThat(ExitCodes.forStatus(503)).isEqualTo(ExitCodes.SERVER_ERROR);
    }

    @Test
    void connectionFailuresAreDescribedShortly() {
        assertThat(FabricEndpoint.describe(new RuntimeException("I/O error", new ConnectException()))).isEqualTo("connection refused");
        assertThat(FabricEndpoint.describe(new RuntimeException(new HttpConnectTimeoutException("x")))).isEqualTo("connection timed out");
        assertThat(FabricEndpoint.describe(new RuntimeException("outer", new java.io.IOException("reset by peer")))).isEqualTo("reset by peer");
    }
}
