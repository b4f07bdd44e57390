package dev.fabric.core.problem;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import jakarta.validation.constraints.NotBlank;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.http.MediaType;
import org.springframework.test.web.servlet.MockMvc;
import org.springframework.test.web.servlet.ResultActions;
import org.springframework.test.web.servlet.setup.MockMvcBuilders;
import org.springframework.validation.beanvalidation.LocalValidatorFactoryBean;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.get;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.post;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.content;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.header;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.jsonPath;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.status;

/** Every answer of the shared advice has the same shape: type, title, status, detail, reason; and is counted. */
class FabricProblemAdviceTest {

    record Thing(@NotBlank String name, Colour colour, Long size, List<String> tags) {}

    enum Colour { RED, BLUE }

    static class Elsewhere extends RuntimeException {}

    @RestController
    static class Things {
        @PostMapping("/things")
        String create(@RequestBody @jakarta.validation.Valid Thing thing) {
            return thing.name();
        }

        @GetMapping("/things")
        String find(@RequestParam long size) {
            return "" + size;
        }

        @GetMapping("/colours")
        String colour(@RequestParam Colour colour) {
            return colour.name();
        }

        @GetMapping("/refused")
        String refused() {
            throw new ProblemException(409, "thing-taken", "the thing is taken; pick another name", Duration.ofSeconds(3));
        }

        @GetMapping("/translated")
        String translated() {
            throw new Elsewhere();
        }

        @GetMapping("/broken")
        String broken() {
            throw new IllegalStateException("a bug");
        }
    }

    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    MockMvc mvc;

    @BeforeEach
    void setUp() {
        ProblemTranslator elsewhere = failure -> failure instanceof Elsewhere
                ? Optional.of(new ProblemException(503, "elsewhere-down", "the other thing is down")) : Optional.empty();
        LocalValidatorFactoryBean validator = new LocalValidatorFactoryBean();
        validator.afterPropertiesSet();
        // As the services configure Jackson: spring.jackson.deserialization.fail-on-unknown-properties=true.
        var json = tools.jackson.databind.json.JsonMapper.builder()
                .enable(tools.jackson.databind.DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .addMixIn(org.springframework.http.ProblemDetail.class, org.springframework.http.converter.json.ProblemDetailJacksonMixin.class)
                .build();
        mvc = MockMvcBuilders.standaloneSetup(new Things()).setValidator(validator)
                .setMessageConverters(new org.springframework.http.converter.StringHttpMessageConverter(),
                        new org.springframework.http.converter.json.JacksonJsonHttpMessageConverter(json))
                .setControllerAdvice(new FabricProblemAdvice(List.of(elsewhere), meters)).build();
    }

    ResultActions problem(ResultActions answer, int status, String reason) throws Exception {
        return answer.andExpect(status().is(status))
                .andExpect(content().contentTypeCompatibleWith(MediaType.APPLICATION_PROBLEM_JSON))
                .andExpect(jsonPath("$.type").value("urn:fabric:problem:" + reason))
                .andExpect(jsonPath("$.title").isNotEmpty())
                .andExpect(jsonPath("$.status").value(status))
                .andExpect(jsonPath("$.detail").isNotEmpty())
                .andExpect(jsonPath("$.reason").value(reason));
    }

    ResultActions postThing(String body) throws Exception {
        return mvc.perform(post("/things").contentType(MediaType.APPLICATION_JSON).content(body));
    }

    @Test
    void bytesThatAreNotJsonAreMalformedJson() throws Exception {
        problem(postThing("{\"name\": "), 400, "malformed-json");
    }

    @Test
    void aFieldTheTypeDoesNotHaveIsAnUnknownField() throws Exception {
        problem(postThing("{\"name\": \"a\", \"weight\": 3}"), 400, "unknown-field")
                .andExpect(jsonPath("$.detail").value("unknown field 'weight'"));
    }

    @Test
    void wellFormedJsonThatBreaksTheRulesIsAnInvalidRequest() throws Exception {
        problem(postThing("{\"name\": \"\"}"), 400, "invalid-request").andExpect(jsonPath("$.detail").value("name must not be blank"));
        problem(postThing("{\"name\": \"a\", \"colour\": \"GREEN\"}"), 400, "invalid-request");
        problem(postThing("{\"name\": \"a\", \"size\": \"big\"}"), 400, "invalid-request");
        problem(mvc.perform(post("/things").contentType(MediaType.APPLICATION_JSON)), 400, "invalid-request");
        problem(mvc.perform(get("/things")), 400, "invalid-request");
        problem(mvc.perform(get("/things").param("size", "big")), 400, "invalid-request");
    }

    @Test
    void aValueOfTheWrongKindIsNamedWithWhatItMustBeInTheRequestsWordsNotJavas() throws Exception {
        problem(postThing("{\"name\": \"a\", \"colour\": \"GREEN\"}"), 400, "invalid-request")
                .andExpect(jsonPath("$.detail").value("colour: 'GREEN' is not one of [RED, BLUE]"));
        problem(postThing("{\"name\": \"a\", \"size\": \"big\"}"), 400, "invalid-request")
                .andExpect(jsonPath("$.detail").value("size: 'big' is not a whole number"));
        problem(postThing("{\"name\": \"a\", \"tags\": {\"a\": 1}}"), 400, "invalid-request")
                .andExpect(jsonPath("$.detail").value("tags: a list is expected here"));
        problem(mvc.perform(get("/things").param("size", "big")), 400, "invalid-request")
                .andExpect(jsonPath("$.detail").value("size: 'big' is not a whole number"));
        problem(mvc.perform(get("/colours").param("colour", "GREEN")), 400, "invalid-request")
                .andExpect(jsonPath("$.detail").value("colour: 'GREEN' is not one of [RED, BLUE]"));
    }

    @Test
    void aPathNoEndpointServesIsNotFoundSaidSo() throws Exception {
        problem(mvc.perform(get("/nothing/here")), 404, "not-found")
                .andExpect(jsonPath("$.detail").value("no endpoint answers GET /nothing/here here (docs/api.md lists them)"));
    }

    @Test
    void springsOwnRefusalsHaveReasonsNamedForWhatHappened() throws Exception {
        problem(mvc.perform(post("/things").contentType(MediaType.TEXT_PLAIN).content("a")), 415, "unsupported-media-type");
        problem(mvc.perform(org.springframework.test.web.servlet.request.MockMvcRequestBuilders.delete("/things")), 405,
                "method-not-allowed");
    }

    @Test
    void aServicesOwnProblemKeepsItsStatusReasonAndRetryAfter() throws Exception {
        problem(mvc.perform(get("/refused")), 409, "thing-taken").andExpect(header().string("Retry-After", "3"));
        // A 503 that names no time of its own still says when to try again: it is a refusal for now.
        problem(mvc.perform(get("/translated")), 503, "elsewhere-down").andExpect(header().string("Retry-After", "1"));
    }

    @Test
    void anythingElseIsAnInternalErrorThatRevealsNothing() throws Exception {
        problem(mvc.perform(get("/broken")), 500, "internal-error").andExpect(jsonPath("$.detail").value(
                org.hamcrest.Matchers.not(org.hamcrest.Matchers.containsString("a bug"))));
    }

    @Test
    void everyProblemIsCountedByReasonAndStatus() throws Exception {
        postThing("{\"name\": ");
        postThing("{\"name\": ");
        mvc.perform(get("/refused"));
        assertThat(meters.get(FabricProblemAdvice.METRIC).tags("reason", "malformed-json", "status", "400").counter().count()).isEqualTo(2);
        assertThat(meters.get(FabricProblemAdvice.METRIC).tags("reason", "thing-taken", "status", "409").counter().count()).isEqualTo(1);
    }
}
