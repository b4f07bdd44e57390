package dev.fabric.core.spring;

import dev.fabric.core.signature.RequestSigner;
import org.springframework.http.HttpRequest;
import org.springframework.http.client.ClientHttpRequestExecution;
import org.springframework.http.client.ClientHttpRequestInterceptor;
import org.springframework.http.client.ClientHttpResponse;

import java.io.IOException;
import java.util.Map;

/**
 * Signs every request a {@code RestClient} sends with the fabric key. {@link FabricRestClients#signed}
 * adds it; a client with a signer of its own (another clock) adds it to {@link FabricRestClients#plain}:
 * {@code FabricRestClients.plain(connectTimeout, readTimeout).requestInterceptor(new FabricSigningInterceptor(signer))}.
 * Not to {@code RestClient.builder()}: left to choose its request factory, it takes Apache HttpClient
 * (fabric-core brings it), whose default sends a GET answered 503 or 429 again with the same
 * signature, and the receiver refuses that as replayed.
 */
public final class FabricSigningInterceptor implements ClientHttpRequestInterceptor {

    private final RequestSigner signer;

    public FabricSigningInterceptor(RequestSigner signer) {
        this.signer = signer;
    }

    @Override
    public ClientHttpResponse intercept(HttpRequest request, byte[] body, ClientHttpRequestExecution execution)
            throws IOException {
        Map<String, String> added = signer.sign(request.getMethod().name(), request.getURI(), Map.of(), body);
        added.forEach(request.getHeaders()::set);
        return execution.execute(request, body);
    }
}
