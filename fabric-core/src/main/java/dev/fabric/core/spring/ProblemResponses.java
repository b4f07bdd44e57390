package dev.fabric.core.spring;

import dev.fabric.core.problem.Problem;
import dev.fabric.core.signature.Rejection;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.http.HttpStatus;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes a rejection of the signature filter, which answers before Spring MVC and its
 * {@link dev.fabric.core.problem.FabricProblemAdvice} see the request, in the same RFC 9457 shape.
 */
public final class ProblemResponses {

    private final JsonMapper json;

    public ProblemResponses(JsonMapper json) {
        this.json = json;
    }

    public void write(HttpServletRequest request, HttpServletResponse response, Rejection rejection, String detail)
            throws IOException {
        Map<String, Object> problem = new LinkedHashMap<>();
        problem.put("type", Problem.typeOf(rejection.code()));
        // The status phrase, as in every problem the fabric answers (docs/problems.md); what went wrong is the detail.
        problem.put("title", HttpStatus.valueOf(rejection.status()).getReasonPhrase());
        problem.put("status", rejection.status());
        problem.put("detail", detail);
        problem.put("instance", request.getRequestURI());
        problem.put("reason", rejection.code());
        response.setStatus(rejection.status());
        response.setContentType("application/problem+json");
        response.setCharacterEncoding("UTF-8");
        if (rejection.status() == 401) {
            response.setHeader("WWW-Authenticate", "Signature realm=\"fabric\"");
        }
        if (rejection == Rejection.REPLAY_CACHE_FULL) {
            response.setHeader("Retry-After", "1");
        }
        response.getOutputStream().write(json.writeValueAsBytes(problem));
    }
}
