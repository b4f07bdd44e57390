package dev.fabric.core.client;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** How a bulk request is cut by bytes and by count, counted as its JSON: an envelope, the items, a comma between two. */
class RequestBatchesTest {

    /** An item's bytes: its length here. */
    private static List<List<String>> split(List<String> items, long envelope, long max, int most) {
        return RequestBatches.split(items, String::length, envelope, max, most, i -> "item " + i);
    }

    @Test
    void itemsThatFitGoInOneRequest() {
        assertThat(split(List.of("aa", "bb", "cc"), 10, 18, 100)).containsExactly(List.of("aa", "bb", "cc"));
    }

    @Test
    void aRequestIsCutWhereTheNextItemWouldTakeItOverTheLimitCommasCounted() {
        // 10 + 2 + 1 + 2 = 15; a third item makes 18, over 17.
        assertThat(split(List.of("aa", "bb", "cc", "dd"), 10, 17, 100)).containsExactly(List.of("aa", "bb"), List.of("cc", "dd"));
    }

    @Test
    void aRequestIsCutAtTheMostItemsToo() {
        List<String> items = IntStream.range(0, 2500).mapToObj(i -> "x").toList();
        assertThat(split(items, 10, Long.MAX_VALUE, 1000)).extracting(List::size).containsExactly(1000, 1000, 500);
    }

    @Test
    void everyRequestStaysWithinTheLimitAndTheOrderIsKept() {
        List<String> items = IntStream.range(0, 500).mapToObj(i -> "y".repeat(1 + i % 37)).toList();
        List<List<String>> requests = split(items, 20, 300, 1000);

        assertThat(requests.stream().flatMap(List::stream).toList()).isEqualTo(items);
        assertThat(requests).allSatisfy(request ->
                assertThat(20 + request.stream().mapToLong(String::length).sum() + request.size() - 1).isLessThanOrEqualTo(300));
    }

    @Test
    void anItemTooLargeAloneIsRefusedNamingItTheLimitAndTheSetting() {
        assertThatThrownBy(() -> split(List.of("a", "b".repeat(100)), 10, 50, 1000))
                .isInstanceOf(RequestBatches.ItemTooLargeException.class)
                .hasMessageStartingWith("item 1 makes a request of 110 bytes even alone, over the 50 bytes a member takes in one request")
                .hasMessageContaining("fabric.security.signature.max-body-size")
                .satisfies(e -> {
                    RequestBatches.ItemTooLargeException tooLarge = (RequestBatches.ItemTooLargeException) e;
                    assertThat(tooLarge.index()).isEqualTo(1);
                    assertThat(tooLarge.bytes()).isEqualTo(110);
                    assertThat(tooLarge.limit()).isEqualTo(50);
                });
    }

    @Test
    void nothingMakesNoRequest() {
        assertThat(split(List.of(), 10, 50, 1000)).isEmpty();
    }
}
