package dev.fabric.core.problem;

import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.Operation;
import io.swagger.v3.oas.models.PathItem;
import io.swagger.v3.oas.models.Paths;
import io.swagger.v3.oas.models.parameters.Parameter;
import io.swagger.v3.oas.models.parameters.RequestBody;
import io.swagger.v3.oas.models.responses.ApiResponse;
import io.swagger.v3.oas.models.responses.ApiResponses;
import org.junit.jupiter.api.Test;
import org.springframework.web.method.HandlerMethod;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ProblemAnswersDocumentationTest {

    @ProblemAnswer(status = 503, reasons = "pilot-manager-not-started", when = "the member runs another role")
    static class Pilots {

        @ProblemAnswer(status = 404, reasons = "unknown-task")
        @ProblemAnswer(status = 409, reasons = {"task-running", "task-not-run"})
        void output(String id) {}

        void list() {}
    }

    private final ProblemAnswersDocumentation documentation =
            new ProblemAnswersDocumentation(List.of("/bootstrap/v1/**", "/actuator/health"), true);

    @Test
    void aHandlersDeclaredProblemsAndItsClassesAreItsResponses() throws Exception {
        Operation operation = documentation.customize(new Operation().responses(new ApiResponses().addApiResponse("200", ok()))
                .addParametersItem(new Parameter().name("id").in("path")), handler("output", String.class));

        assertThat(operation.getResponses().keySet()).containsExactlyInAnyOrder("200", "400", "404", "409", "503");
        assertThat(operation.getResponses().get("409").getDescription()).isEqualTo("Conflict: task-running, task-not-run");
        assertThat(operation.getResponses().get("503").getDescription())
                .isEqualTo("Service Unavailable: pilot-manager-not-started (the member runs another role)");
        assertThat(operation.getResponses().get("400").getDescription()).isEqualTo("Bad Request: invalid-request");
        assertThat(operation.getResponses().get("404").getContent().get("application/problem+json").getSchema().get$ref())
                .isEqualTo("#/components/schemas/Problem");
    }

    @Test
    void anOperationWithABodyCanAnswerItsJsonErrorsAndOneWithoutParametersNone() throws Exception {
        Operation withBody = documentation.customize(new Operation().requestBody(new RequestBody()), handler("list"));
        Operation bare = documentation.customize(new Operation(), handler("list"));

        assertThat(withBody.getResponses().get("400").getDescription()).isEqualTo("Bad Request: malformed-json, unknown-field, invalid-request");
        assertThat(bare.getResponses().keySet()).containsExactly("503");
    }

    @Test
    void aSignedPathAnswersTheSignatureFiltersProblemsBesideItsOwnAndAnOpenOneDoesNot() throws Exception {
        Operation signed = documentation.customize(new Operation(), handler("list"));
        Operation open = new Operation().responses(new ApiResponses().addApiResponse("200", ok()));
        OpenAPI document = new OpenAPI().paths(new Paths()
                .addPathItem("/pilots/v1/pilots", new PathItem().get(signed))
                .addPathItem("/bootstrap/v1/redeem", new PathItem().post(open)));

        documentation.customise(document);

        assertThat(signed.getResponses().get("401").getDescription()).startsWith("Unauthorized: unsigned, ").contains("replayed");
        assertThat(signed.getResponses().get("503").getDescription())
                .isEqualTo("Service Unavailable: pilot-manager-not-started (the member runs another role), replay-cache-full");
        assertThat(signed.getResponses()).doesNotContainKey("413");
        assertThat(open.getResponses().keySet()).containsExactly("200");
        assertThat(document.getComponents().getSchemas()).containsKey("Problem");
    }

    @Test
    void withSignaturesOffNoPathAnswersTheirProblems() throws Exception {
        Operation operation = new Operation().responses(new ApiResponses().addApiResponse("200", ok()));
        new ProblemAnswersDocumentation(List.of(), false)
                .customise(new OpenAPI().paths(new Paths().addPathItem("/queue/v1/stats", new PathItem().get(operation))));

        assertThat(operation.getResponses().keySet()).containsExactly("200");
    }

    private static ApiResponse ok() {
        return new ApiResponse().description("OK");
    }

    private static HandlerMethod handler(String name, Class<?>... parameters) throws NoSuchMethodException {
        return new HandlerMethod(new Pilots(), Pilots.class.getDeclaredMethod(name, parameters));
    }
}
