package dev.fabric.spawner.role.queue;

import dev.fabric.core.problem.FabricProblemAdvice;
import dev.fabric.spawner.role.RoleContext;
import com.jayway.jsonpath.JsonPath;
import dev.fabric.testsupport.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.http.MediaType;
import org.springframework.test.json.JsonCompareMode;
import org.springframework.test.web.servlet.MockMvc;
import org.springframework.test.web.servlet.ResultActions;
import org.springframework.test.web.servlet.request.MockHttpServletRequestBuilder;
import org.springframework.test.web.servlet.setup.MockMvcBuilders;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.hasSize;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.delete;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.get;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.post;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.content;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.jsonPath;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.status;

/** The HTTP API over a real queue and journal, with the member's problem+json advice; no security (the lead's filter). */
class QueueControllerTest {

    static final String UNKNOWN_LEASE = "6f1c1a52-31b4-4cbb-9f0a-2d4be1d2a9c7";

    @TempDir
    Path dir;

    final MutableClock clock = new MutableClock(Instant.parse("2030-01-01T00:00:00Z"));
    QueueRole role;
    MockMvc mvc;

    @BeforeEach
    void startQueue() {
        role = new QueueRole(clock, WorkQueue.DEFAULT_COMPACT_MIN_RECORDS);
        role.start(new RoleContext("queue-1", 1, dir, Map.of(), false));
        mvc = MockMvcBuilders.standaloneSetup(new QueueController(role)).setControllerAdvice(new FabricProblemAdvice(java.util.List.of(), null)).build();
    }

    @AfterEach
    void stopQueue() {
        role.stop();
    }

    ResultActions call(MockHttpServletRequestBuilder request) throws Exception {
        return mvc.perform(request);
    }

    String enqueue(String body) throws Exception {
        String answer = call(post("/queue/v1/messages").contentType(MediaType.APPLICATION_JSON).content("{\"body\": \"" + body + "\"}"))
                .andExpect(status().isOk()).andReturn().getResponse().getContentAsString();
        return JsonPath.read(answer, "$.id");
    }

    String leaseOne() throws Exception {
        String answer = call(post("/queue/v1/leases")).andExpect(status().isOk()).andReturn().getResponse().getContentAsString();
        return JsonPath.read(answer, "$.messages[0].leaseId");
    }

    static void problem(ResultActions result, int status, String reason, String detail) throws Exception {
        result.andExpect(status().is(status))
                .andExpect(content().contentTypeCompatibleWith(MediaType.APPLICATION_PROBLEM_JSON))
                .andExpect(jsonPath("$.status").value(status))
                .andExpect(jsonPath("$.reason").value(reason))
                .andExpect(jsonPath("$.detail", containsString(detail)));
    }

    @Test
    void enqueueLeaseAckAndStats() throws Exception {
        String id = enqueue("resize image 42");

        call(post("/queue/v1/leases").param("max", "10").param("visibility", "45s"))
                .andExpect(status().isOk())
                .andExpect(jsonPath("$.messages", hasSize(1)))
                .andExpect(jsonPath("$.messages[0].id").value(id))
                .andExpect(jsonPath("$.messages[0].body").value("resize image 42"))
                .andExpect(jsonPath("$.messages[0].deliveries").value(1))
                .andExpect(jsonPath("$.messages[0].deadline").value("2030-01-01T00:00:45Z"));
        call(get("/queue/v1/stats")).andExpect(status().isOk())
                .andExpect(content().json("{\"ready\": 0, \"leased\": 1, \"acked\": 0}", JsonCompareMode.STRICT));

        // Still leased a second before its deadline: nothing to hand out.
        clock.advance(Duration.ofSeconds(44));
        call(post("/queue/v1/leases").param("visibility", "1m")).andExpect(status().isNoContent());
    }

    @Test
    void ackAnswersNoContentAndCountsTheAck() throws Exception {
        enqueue("a");
        String lease = leaseOne();

        call(delete("/queue/v1/leases/{id}", lease)).andExpect(status().isNoContent());
        call(delete("/queue/v1/leases/{id}", lease)).andExpect(status().isNoContent());
        call(get("/queue/v1/stats")).andExpect(jsonPath("$.acked").value(1)).andExpect(jsonPath("$.ready").value(0));
    }

    @Test
    void aMessageNoConsumerHoldsIsWithdrawnAndOneLeasedIsNot() throws Exception {
        String held = enqueue("held");
        String free = enqueue("free");
        leaseOne();

        problem(call(delete("/queue/v1/messages/{id}", held)), 409, "message-leased", "its ack or nack decides");
        call(delete("/queue/v1/messages/{id}", free)).andExpect(status().isNoContent());
        call(delete("/queue/v1/messages/{id}", free)).andExpect(status().isNoContent());
        call(post("/queue/v1/leases")).andExpect(status().isNoContent());
        call(get("/queue/v1/stats")).andExpect(jsonPath("$.ready").value(0)).andExpect(jsonPath("$.leased").value(1));

        problem(call(delete("/queue/v1/messages/{id}", "00000000-0000-0000-0000-000000000001")), 404, "message-unknown",
                "never enqueued here");
        problem(call(delete("/queue/v1/messages/{id}", "not-a-uuid")), 400, "invalid-request", "is not a message id");
    }

    @Test
    void leasingAnEmptyQueueAnswersNoContent() throws Exception {
        call(post("/queue/v1/leases").param("max", "5")).andExpect(status().isNoContent())
                .andExpect(content().string(""));
    }

    @Test
    void nackMakesTheMessageVisibleAtOnce() throws Exception {
        enqueue("a");
        String lease = leaseOne();

        call(post("/queue/v1/leases/{id}/nack", lease)).andExpect(status().isNoContent());

        call(post("/queue/v1/leases")).andExpect(status().isOk()).andExpect(jsonPath("$.messages[0].deliveries").value(2));
    }

    @Test
    void extendMovesTheDeadlineAndAnswersIt() throws Exception {
        enqueue("a");
        String lease = leaseOne();
        clock.advance(Duration.ofSeconds(20));

        call(post("/queue/v1/leases/{id}/extend", lease).param("visibility", "1m")).andExpect(status().isOk())
                .andExpect(content().json("{\"deadline\": \"2030-01-01T00:01:20Z\"}", JsonCompareMode.STRICT));
        problem(call(post("/queue/v1/leases/{id}/extend", lease).param("visibility", "13h")), 400, "invalid-request",
                "visibility must be from 1s to 12h, not '13h'");
    }

    @Test
    void waitOutsideZeroToTwentySecondsIsABadRequest() throws Exception {
        for (String wait : new String[] {"21s", "-1s", "1m"}) {
            problem(call(post("/queue/v1/leases").param("wait", wait)), 400, "invalid-request",
                    "wait must be from 0s to 20s, not '" + wait + "'");
        }
        problem(call(post("/queue/v1/leases").param("wait", "a while")), 400, "invalid-request",
                "wait must be a duration such as 0s, 500ms or 20s, not 'a while'");
        call(post("/queue/v1/leases").param("wait", "10ms")).andExpect(status().isNoContent());
    }

    @Test
    void maxOutsideOneToAThousandIsABadRequest() throws Exception {
        for (String max : new String[] {"0", "1001", "-3", "ten", "2.5"}) {
            problem(call(post("/queue/v1/leases").param("max", max)), 400, "invalid-request",
                    "max must be a whole number from 1 to 1000, not '" + max + "'");
        }
        call(post("/queue/v1/leases").param("max", "1000")).andExpect(status().isNoContent());
    }

    @Test
    void visibilityOutsideOneSecondToTwelveHoursIsABadRequest() throws Exception {
        for (String visibility : new String[] {"0s", "999ms", "721m", "13h", "PT0S", "-5s"}) {
            problem(call(post("/queue/v1/leases").param("visibility", visibility)), 400, "invalid-request",
                    "visibility must be from 1s to 12h, not '" + visibility + "'");
        }
        for (String visibility : new String[] {"soon", "30 parsecs", "-"}) {
            problem(call(post("/queue/v1/leases").param("visibility", visibility)), 400, "invalid-request",
                    "visibility must be a duration such as 30s, 5m or 2h, not '" + visibility + "'");
        }
        for (String visibility : new String[] {"1s", "12h", "PT5M", "90"}) {
            call(post("/queue/v1/leases").param("visibility", visibility)).andExpect(status().isNoContent());
        }
    }

    @Test
    void aMissingOrOversizedBodyIsABadRequest() throws Exception {
        problem(call(post("/queue/v1/messages").contentType(MediaType.APPLICATION_JSON).content("{}")), 400, "invalid-request",
                "a JSON object with a text \"body\"");
        problem(call(post("/queue/v1/messages").contentType(MediaType.APPLICATION_JSON)), 400, "invalid-request",
                "a JSON object with a text \"body\"");
        problem(call(post("/queue/v1/messages").contentType(MediaType.APPLICATION_JSON).content("{\"body\": null}")), 400,
                "invalid-request", "a JSON object with a text \"body\"");

        String tooBig = "x".repeat(256 * 1024 + 1);
        problem(call(post("/queue/v1/messages").contentType(MediaType.APPLICATION_JSON).content("{\"body\": \"" + tooBig + "\"}")),
                400, "invalid-request", "the body is 262145 bytes in UTF-8, over the limit of 262144 bytes (256 KiB)");
        // The limit is on UTF-8 bytes, not characters: 87382 three-byte characters are 262146 bytes.
        problem(call(post("/queue/v1/messages").contentType(MediaType.APPLICATION_JSON)
                .content("{\"body\": \"" + "\u20ac".repeat(87382) + "\"}")), 400, "invalid-request", "the body is 262146 bytes");

        call(post("/queue/v1/messages").contentType(MediaType.APPLICATION_JSON).content("{\"body\": \"" + "x".repeat(256 * 1024) + "\"}"))
                .andExpect(status().isOk());
        call(get("/queue/v1/stats")).andExpect(jsonPath("$.ready").value(1));
    }

    @Test
    void aBulkEnqueueStoresEveryBodyInOrderAndAnswersTheirIds() throws Exception {
        String answer = call(post("/queue/v1/messages").contentType(MediaType.APPLICATION_JSON)
                .content("{\"bodies\": [\"a\", \"b\", \"c\"]}")).andExpect(status().isOk())
                .andExpect(jsonPath("$.ids", hasSize(3))).andReturn().getResponse().getContentAsString();
        java.util.List<String> ids = JsonPath.read(answer, "$.ids");

        call(post("/queue/v1/leases").param("max", "10")).andExpect(status().isOk())
                .andExpect(jsonPath("$.messages[*].id").value(org.hamcrest.Matchers.contains(ids.toArray())))
                .andExpect(jsonPath("$.messages[*].body").value(org.hamcrest.Matchers.contains("a", "b", "c")));
    }

    @Test
    void aBadBulkEnqueueIsABadRequestAndStoresNothing() throws Exception {
        problem(call(post("/queue/v1/messages").contentType(MediaType.APPLICATION_JSON).content("{\"body\": \"a\", \"bodies\": [\"b\"]}")),
                400, "invalid-request", "both \"body\" and \"bodies\"");
        problem(call(post("/queue/v1/messages").contentType(MediaType.APPLICATION_JSON).content("{\"bodies\": []}")), 400,
                "invalid-request", "\"bodies\" must hold 1 to 1000 texts, not 0");
        problem(call(post("/queue/v1/messages").contentType(MediaType.APPLICATION_JSON).content("{\"bodies\": [\"a\", null]}")), 400,
                "invalid-request", "bodies[1] is null");
        String tooBig = "x".repeat(256 * 1024 + 1);
        problem(call(post("/queue/v1/messages").contentType(MediaType.APPLICATION_JSON).content("{\"bodies\": [\"a\", \"" + tooBig + "\"]}")),
                400, "invalid-request", "bodies[1] is 262145 bytes in UTF-8");
        String many = "[" + String.join(",", java.util.Collections.nCopies(1001, "\"x\"")) + "]";
        problem(call(post("/queue/v1/messages").contentType(MediaType.APPLICATION_JSON).content("{\"bodies\": " + many + "}")), 400,
                "invalid-request", "not 1001");
        String big = "\"" + "x".repeat(200 * 1024) + "\"";
        String heavy = "[" + String.join(",", java.util.Collections.nCopies(41, big)) + "]";
        problem(call(post("/queue/v1/messages").contentType(MediaType.APPLICATION_JSON).content("{\"bodies\": " + heavy + "}")), 400,
                "invalid-request", "over the limit of 8388608 bytes (8 MiB) for one request");
        call(get("/queue/v1/stats")).andExpect(jsonPath("$.ready").value(0));
    }

    @Test
    void aBulkAckAcksTheLiveLeasesAndNamesTheOthersWithTheirReasons() throws Exception {
        enqueue("a");
        enqueue("b");
        enqueue("c");
        String answer = call(post("/queue/v1/leases").param("max", "3")).andExpect(status().isOk()).andReturn().getResponse()
                .getContentAsString();
        java.util.List<String> leases = JsonPath.read(answer, "$.messages[*].leaseId");
        call(post("/queue/v1/leases/{lease}/nack", leases.get(2))).andExpect(status().isNoContent());
        call(delete("/queue/v1/leases/{lease}", leases.get(1))).andExpect(status().isNoContent());

        call(post("/queue/v1/acks").contentType(MediaType.APPLICATION_JSON).content("{\"leaseIds\": [\"" + leases.get(0) + "\", \""
                + leases.get(1) + "\", \"" + leases.get(2) + "\", \"" + UNKNOWN_LEASE + "\"]}"))
                .andExpect(status().isOk())
                .andExpect(jsonPath("$.refused", hasSize(2)))
                .andExpect(jsonPath("$.refused[0].leaseId").value(leases.get(2)))
                .andExpect(jsonPath("$.refused[0].reason").value("lease-nacked"))
                .andExpect(jsonPath("$.refused[1].leaseId").value(UNKNOWN_LEASE))
                .andExpect(jsonPath("$.refused[1].reason").value("lease-unknown"))
                .andExpect(jsonPath("$.refused[1].detail", containsString("never issued")));
        call(get("/queue/v1/stats")).andExpect(content().json("{\"ready\": 1, \"leased\": 0, \"acked\": 2}", JsonCompareMode.STRICT));
    }

    @Test
    void aLeaseRequestCarryingAcksAcksThemDurablyBeforeItLeases() throws Exception {
        enqueue("a");
        enqueue("b");
        enqueue("c");
        String answer = call(post("/queue/v1/leases").param("max", "2")).andExpect(status().isOk()).andReturn().getResponse()
                .getContentAsString();
        java.util.List<String> leases = JsonPath.read(answer, "$.messages[*].leaseId");
        call(post("/queue/v1/leases/{lease}/nack", leases.get(1))).andExpect(status().isNoContent());

        // One request: "a" acked (its lease), "b"'s nacked lease refused as a bulk ack would, then "b" and "c" leased.
        call(post("/queue/v1/leases").param("max", "5").contentType(MediaType.APPLICATION_JSON)
                .content("{\"leaseIds\": [\"" + leases.get(0) + "\", \"" + leases.get(1) + "\"]}"))
                .andExpect(status().isOk())
                .andExpect(jsonPath("$.messages[*].body").value(org.hamcrest.Matchers.contains("b", "c")))
                .andExpect(jsonPath("$.refused", hasSize(1)))
                .andExpect(jsonPath("$.refused[0].leaseId").value(leases.get(1)))
                .andExpect(jsonPath("$.refused[0].reason").value("lease-nacked"));
        call(get("/queue/v1/stats")).andExpect(content().json("{\"ready\": 0, \"leased\": 2, \"acked\": 1}", JsonCompareMode.STRICT));

        // On disk: a restart brings back "b" and "c", not the acked "a".
        role.stop();
        role = new QueueRole(clock, WorkQueue.DEFAULT_COMPACT_MIN_RECORDS);
        role.start(new RoleContext("queue-1", 1, dir, Map.of(), true));
        mvc = MockMvcBuilders.standaloneSetup(new QueueController(role)).setControllerAdvice(new FabricProblemAdvice(java.util.List.of(), null)).build();
        call(post("/queue/v1/leases").param("max", "5")).andExpect(status().isOk())
                .andExpect(jsonPath("$.messages[*].body").value(org.hamcrest.Matchers.contains("b", "c")));
    }

    @Test
    void aLeaseRequestCarryingAcksIsAnsweredWithTheirRefusalsEvenWhenNothingIsLeased() throws Exception {
        enqueue("a");
        String lease = leaseOne();

        call(post("/queue/v1/leases").contentType(MediaType.APPLICATION_JSON).content("{\"leaseIds\": [\"" + lease + "\"]}"))
                .andExpect(status().isOk())
                .andExpect(content().json("{\"messages\": [], \"refused\": []}", JsonCompareMode.STRICT));
        // Acked again (an answer that was lost): a no-op, as for the bulk ack.
        call(post("/queue/v1/leases").contentType(MediaType.APPLICATION_JSON).content("{\"leaseIds\": [\"" + lease + "\"]}"))
                .andExpect(status().isOk())
                .andExpect(content().json("{\"messages\": [], \"refused\": []}", JsonCompareMode.STRICT));
        call(get("/queue/v1/stats")).andExpect(jsonPath("$.acked").value(1));
    }

    @Test
    void aLeaseRequestWithoutAcksIsAnsweredAsBefore() throws Exception {
        enqueue("a");

        String answer = call(post("/queue/v1/leases")).andExpect(status().isOk()).andReturn().getResponse().getContentAsString();
        org.assertj.core.api.Assertions.assertThat(answer).doesNotContain("refused");
        call(post("/queue/v1/leases")).andExpect(status().isNoContent());
    }

    @Test
    void aLeaseRequestWithBadAcksIsABadRequestAndAcksNothing() throws Exception {
        enqueue("a");
        String lease = leaseOne();

        problem(call(post("/queue/v1/leases").contentType(MediaType.APPLICATION_JSON).content("{\"leaseIds\": [\"" + lease
                + "\", \"nope\"]}")), 400, "invalid-request", "'nope' is not a lease id");
        problem(call(post("/queue/v1/leases").contentType(MediaType.APPLICATION_JSON).content("{}")), 400, "invalid-request",
                "{\"leaseIds\": [...]}");
        problem(call(post("/queue/v1/leases").contentType(MediaType.APPLICATION_JSON).content("{\"leaseIds\": []}")), 400,
                "invalid-request", "with 1 to 1000 lease ids");
        problem(call(post("/queue/v1/leases").param("max", "0").contentType(MediaType.APPLICATION_JSON)
                .content("{\"leaseIds\": [\"" + lease + "\"]}")), 400, "invalid-request", "max");
        call(get("/queue/v1/stats")).andExpect(jsonPath("$.acked").value(0)).andExpect(jsonPath("$.leased").value(1));
    }

    @Test
    void aBadBulkAckIsABadRequest() throws Exception {
        problem(call(post("/queue/v1/acks").contentType(MediaType.APPLICATION_JSON).content("{}")), 400, "invalid-request",
                "{\"leaseIds\": [...]} with 1 to 1000 lease ids");
        problem(call(post("/queue/v1/acks").contentType(MediaType.APPLICATION_JSON).content("{\"leaseIds\": [\"nope\"]}")), 400,
                "invalid-request", "'nope' is not a lease id");
    }

    @Test
    void aBodyThatIsNotJsonIsUnsupported() throws Exception {
        call(post("/queue/v1/messages").contentType(MediaType.TEXT_PLAIN).content("resize image 42"))
                .andExpect(status().isUnsupportedMediaType())
                .andExpect(content().contentTypeCompatibleWith(MediaType.APPLICATION_PROBLEM_JSON));
    }

    @Test
    void malformedJsonIsABadRequest() throws Exception {
        call(post("/queue/v1/messages").contentType(MediaType.APPLICATION_JSON).content("{\"body\": "))
                .andExpect(status().isBadRequest())
                .andExpect(content().contentTypeCompatibleWith(MediaType.APPLICATION_PROBLEM_JSON))
                .andExpect(jsonPath("$.reason").value("malformed-json"))
                .andExpect(jsonPath("$.type").value("urn:fabric:problem:malformed-json"));
        call(get("/queue/v1/stats")).andExpect(jsonPath("$.ready").value(0));
    }

    @Test
    void aLeaseIdThatIsNotOneIsABadRequest() throws Exception {
        problem(call(delete("/queue/v1/leases/{id}", "42")), 400, "invalid-request", "'42' is not a lease id");
        problem(call(post("/queue/v1/leases/{id}/nack", "1-2-3-4-5")), 400, "invalid-request", "'1-2-3-4-5' is not a lease id");
    }

    @Test
    void anUnknownLeaseIsNotFound() throws Exception {
        problem(call(delete("/queue/v1/leases/{id}", UNKNOWN_LEASE)), 404, "lease-unknown",
                "lease " + UNKNOWN_LEASE + " is unknown to this queue");
        problem(call(post("/queue/v1/leases/{id}/nack", UNKNOWN_LEASE)), 404, "lease-unknown", "leases do not survive a restart");
    }

    @Test
    void anExpiredLeaseIsAConflict() throws Exception {
        enqueue("a");
        String lease = leaseOne();
        clock.advance(Duration.ofSeconds(30));

        problem(call(delete("/queue/v1/leases/{id}", lease)), 409, "lease-expired", "expired before it was acked");
        call(delete("/queue/v1/leases/{id}", lease)).andExpect(jsonPath("$.title").value("Conflict"))
                .andExpect(jsonPath("$.instance").value("/queue/v1/leases/" + lease));
        problem(call(post("/queue/v1/leases/{id}/nack", lease)), 409, "lease-expired", "expired before it was nacked");
        call(get("/queue/v1/stats")).andExpect(jsonPath("$.ready").value(1)).andExpect(jsonPath("$.leased").value(0));
    }

    @Test
    void settlingALeaseTheOtherWayIsAConflict() throws Exception {
        enqueue("a");
        enqueue("b");
        String acked = leaseOne();
        String nacked = leaseOne();
        call(delete("/queue/v1/leases/{id}", acked)).andExpect(status().isNoContent());
        call(post("/queue/v1/leases/{id}/nack", nacked)).andExpect(status().isNoContent());

        problem(call(post("/queue/v1/leases/{id}/nack", acked)), 409, "lease-acked", "its message is gone for good");
        problem(call(delete("/queue/v1/leases/{id}", nacked)), 409, "lease-nacked", "its message is visible again");
    }

    @Test
    void everyEndpointAnswersServiceUnavailableUntilTheRoleStarts() throws Exception {
        role.stop();

        for (MockHttpServletRequestBuilder request : new MockHttpServletRequestBuilder[] {
                post("/queue/v1/messages").contentType(MediaType.APPLICATION_JSON).content("{\"body\": \"a\"}"),
                post("/queue/v1/leases"),
                delete("/queue/v1/leases/{id}", UNKNOWN_LEASE),
                post("/queue/v1/leases/{id}/nack", UNKNOWN_LEASE),
                get("/queue/v1/stats")}) {
            problem(call(request), 503, "queue-not-started", "queue role not started");
        }
    }
}
