package dev.fabric.testsupport;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DocumentedAnswersTest {

    private static final String DOCUMENT = """
            {"openapi": "3.1.0", "paths": {
              "/api/v1/members/{id}": {"get": {"responses": {"200": {"description": "OK"},
                  "404": {"description": "Not Found: unknown-member"}}}},
              "/api/v1/members/{id}/log": {"get": {"responses": {"200": {"description": "the log"},
                  "404": {"description": "Not Found: unknown-member, no-log (its launcher keeps none)"}}}}
            }}
            """;

    @Test
    void aStatusAndReasonTheOperationDocumentsPass() {
        DocumentedAnswers answers = DocumentedAnswers.ofDocument("spawner", DOCUMENT);

        assertThat(answers.answered("GET", "/api/v1/members/queue-1/log?bytes=10", 200, "{\"text\": \"\"}")).isTrue();
        assertThat(answers.answered("GET", "/api/v1/members/queue-1/log", 404, "{\"reason\": \"no-log\"}")).isTrue();
        assertThat(answers.answered("get", "/api/v1/members/queue-1", 404, "{\"reason\": \"unknown-member\"}")).isTrue();
        answers.assertDocumented();
    }

    @Test
    void anUndocumentedStatusReasonOrOperationFailsNamingEach() {
        DocumentedAnswers answers = DocumentedAnswers.ofDocument("spawner", DOCUMENT);

        assertThat(answers.answered("GET", "/api/v1/members/queue-1", 201, "")).isFalse();
        assertThat(answers.answered("GET", "/api/v1/members/queue-1", 404, "{\"reason\": \"no-log\"}")).isFalse();
        assertThat(answers.answered("DELETE", "/api/v1/members/queue-1", 204, "")).isFalse();

        assertThatThrownBy(answers::assertDocumented)
                .hasMessageContaining("GET /api/v1/members/queue-1 answered 201; documented: [200, 404]")
                .hasMessageContaining("answered 404 no-log; documented for 404: Not Found: unknown-member")
                .hasMessageContaining("DELETE /api/v1/members/queue-1 answered 204, and the spawner's document has no such operation");
    }

    @Test
    void aReasonIsNamedWholeNotAsPartOfAnother() {
        assertThat(DocumentedAnswers.names("Not Found: unknown-member, no-log (when)", "no-log")).isTrue();
        assertThat(DocumentedAnswers.names("Conflict: task-not-run", "task-not-running")).isFalse();
        assertThat(DocumentedAnswers.names("Conflict: task-not-running", "task-not-run")).isFalse();
    }
}
