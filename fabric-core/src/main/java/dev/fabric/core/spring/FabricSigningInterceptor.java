package dev.fabric.core.spring;

import dev.fabric.core.signature.RequestSigner;
import org.springframework.http.HttpRequest;
import org.springframework.http.client.ClientHttpRequestExecution;
import org.springframework.http.client.ClientHttpRequestInterceptor;
import org.springframework.http.client.ClientHttpResponse;

import java.io.IOException;
import java.util.Map;

/**
 * Signs every request a {@code RestClient} sends with the fabric key:
 * {@code RestClient.builder().requestFactory(new JdkClientHttpRequestFactory()).requestInterceptor(new FabricSigningInterceptor(signer))},
 * or {@link FabricRestClients#signed}. The request factory must never send a request again by itself:
 * the signature would go again with it and be refused as replayed. Apache HttpClient's default (which
 * {@code RestClient.builder()} takes when it is on the class path) sends a GET answered 503 or 429 again.
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
