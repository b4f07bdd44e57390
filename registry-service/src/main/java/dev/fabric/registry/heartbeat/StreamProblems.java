package dev.fabric.registry.heartbeat;

import dev.fabric.core.problem.Problem;
import dev.fabric.core.problem.ProblemException;
import dev.fabric.core.problem.ProblemTranslator;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;
import tools.jackson.databind.json.JsonMapper;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A heartbeat stream's refusals, in the same RFC 9457 shape as every answer of the registry: as the
 * handshake's HTTP answer, or as a text message on the stream before it closes.
 */
@Component
class StreamProblems {

    private final JsonMapper json;
    private final List<ProblemTranslator> translators;

    StreamProblems(JsonMapper json, List<ProblemTranslator> translators) {
        this.json = json;
        this.translators = translators;
    }

    /** The problem a failure is: the refusal itself, or what a translator makes of it (the database away: 503). */
    ProblemException of(RuntimeException failure) {
        if (failure instanceof ProblemException problem) {
            return problem;
        }
        return translators.stream().flatMap(t -> t.translate(failure).stream()).findFirst().orElseThrow(() -> failure);
    }

    /** The problem document; {@code seq} (the refused heartbeat's sequence number) is left out when 0. */
    byte[] document(ProblemException e, String instance, long seq) {
        Map<String, Object> problem = new LinkedHashMap<>();
        problem.put("type", Problem.typeOf(e.reason()));
        problem.put("title", HttpStatus.valueOf(e.status()).getReasonPhrase());
        problem.put("status", e.status());
        problem.put("detail", e.detail());
        problem.put("instance", instance);
        problem.put("reason", e.reason());
        if (seq != 0) {
            problem.put("seq", seq);
        }
        return json.writeValueAsBytes(problem);
    }
}
