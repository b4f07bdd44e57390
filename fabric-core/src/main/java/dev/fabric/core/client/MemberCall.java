package dev.fabric.core.client;

import org.springframework.web.client.RestClient;

import java.net.URI;

/**
 * One call to a fabric member, made through {@link FabricClient#call(String, MemberCall)}.
 *
 * <p>The client signs every request with the fabric key. A call that fails to connect, times out,
 * breaks off, or gets 502, 503 or 504 is treated as the member being unreachable: the client asks
 * the registry, has the member restarted if it is dead, and runs the call once more. The call may
 * therefore run twice, and should be idempotent or tolerate that (as an at-least-once delivery
 * does). Let such failures propagate: a call that catches them itself opts out of the fail-over.
 *
 * @param <T> what the call returns
 */
@FunctionalInterface
public interface MemberCall<T> {

    /**
     * @param client a signed client whose base URL is the member's endpoint, so
     *               {@code client.get().uri("/management/v1/status")} goes to the member
     * @param baseUrl that endpoint, as the registry publishes it
     */
    T call(RestClient client, URI baseUrl);
}
